/**
 * First-run setup of a local XOS: the table, a default site and the bootstrap administrator.
 * Idempotent: running it again changes nothing unless a new admin password is given.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../../shared/adapters/dynamodb/create-table';
import type { Caller } from '../../shared/model/define';
import { requireModel } from '../../shared/model/registry';
import type { ObjectService } from '../../shared/objects/service';

/** The identity bootstrap writes as. */
export const SYSTEM_CALLER: Caller = { userId: 'system', email: 'system@xos.local', isAdmin: true };

/** Read a secret file, or create it with fresh random content and mode 0600. */
export function persistentSecret(
  file: string,
  make: () => string = () => randomBytes(32).toString('base64url'),
): { value: string; created: boolean } {
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), created: false };
  const value = make();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { value, created: true };
}

/** What bootstrap did, for the start banner. */
export interface BootstrapResult {
  readonly adminEmail: string;
  /** Set only when the password was generated now and must be shown once. */
  readonly generatedPassword?: string;
  readonly passwordFile?: string;
  readonly createdAdmin: boolean;
  /** The default site (demo deployments are bound to it). */
  readonly siteId: string;
}

/** Create the table, the default site and the admin user when missing. */
export async function bootstrap(options: {
  client: DynamoDBClient;
  tableName: string;
  objects: ObjectService;
  adminEmail?: string;
  adminPassword?: string;
  /** Where to keep a generated admin password (0600); in-memory runs have none. */
  dataDir?: string;
}): Promise<BootstrapResult> {
  await ensureTable(options.client, options.tableName);
  const adminEmail = options.adminEmail || 'admin@xos.local';
  const users = requireModel('User');
  const sites = requireModel('Site');
  let site = (await options.objects.list(sites, { login_base: 'default', limit: '1' })).items[0];
  site ??= await options.objects.create(
    sites,
    { name: 'Default Site', login_base: 'default', abbreviated_name: 'default' },
    SYSTEM_CALLER,
  );
  const existing = (await options.objects.list(users, { email: adminEmail, limit: '1' })).items[0];
  if (existing) {
    if (options.adminPassword) {
      await options.objects.update(
        users,
        existing.id,
        'patch',
        { password: options.adminPassword, is_admin: true },
        existing.version,
        SYSTEM_CALLER,
      );
    }
    return { adminEmail, createdAdmin: false, siteId: site.id };
  }
  let password = options.adminPassword;
  let generatedPassword: string | undefined;
  let passwordFile: string | undefined;
  if (!password) {
    if (options.dataDir) {
      passwordFile = join(options.dataDir, 'admin-password');
      const secret = persistentSecret(passwordFile, () => randomBytes(15).toString('base64url'));
      password = secret.value;
      if (secret.created) generatedPassword = password;
    } else {
      password = randomBytes(15).toString('base64url');
      generatedPassword = password;
    }
  }
  await options.objects.create(
    users,
    {
      email: adminEmail,
      password,
      is_admin: true,
      is_staff: true,
      firstname: 'XOS',
      lastname: 'Admin',
      site_id: site.id,
    },
    SYSTEM_CALLER,
  );
  return { adminEmail, generatedPassword, passwordFile, createdAdmin: true, siteId: site.id };
}
