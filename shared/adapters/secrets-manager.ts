/**
 * The SecretsPort over AWS Secrets Manager. A controller's `credentials_ref` names a secret under
 * a stage prefix (`xos/<stage>/controllers/<ref>`), which is also what the Lambdas' IAM policy
 * allows, so a reference can never reach another stage's or application's secrets. Values are
 * cached briefly in memory: a warm Lambda does not call Secrets Manager on every task, and a
 * rotated secret is picked up within the cache lifetime. It is also the API's write-only store
 * for controller credentials (PutSecretValue, creating the secret the first time).
 */
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { RetryableBackendError, TerminalBackendError } from '../errors';
import { parseSecret, type Secret, type SecretsPort } from '../secrets/secrets';

/** What the adapter needs from a Secrets Manager client (a real one, or a stand-in in tests). */
export type SecretsManagerSender = Pick<SecretsManagerClient, 'send'>;

/** Options of the Secrets Manager adapter. */
export interface SecretsManagerSecretsOptions {
  /** Prepended to every reference, e.g. `xos/dev/controllers/`. */
  readonly prefix: string;
  readonly client?: SecretsManagerSender;
  readonly clientConfig?: SecretsManagerClientConfig;
  /** How long a value is reused (default 5 minutes; 0 disables the cache). */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/** Characters Secrets Manager allows in a name; `..` is refused so a reference stays under the prefix. */
const REF = /^[A-Za-z0-9/_+=.@-]{1,256}$/;

/** Errors that mean the secret is missing or unusable, not that the service had a bad moment. */
const TERMINAL = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'DecryptionFailure',
  'InvalidParameterException',
  'InvalidRequestException',
]);

/** Controller credentials in Secrets Manager: reads cached in memory for a short time; writes. */
export class SecretsManagerSecrets implements SecretsPort {
  private readonly client: SecretsManagerSender;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { value: Promise<Secret>; until: number }>();

  constructor(private readonly options: SecretsManagerSecretsOptions) {
    this.client = options.client ?? new SecretsManagerClient(options.clientConfig ?? {});
    this.ttlMs = options.ttlMs ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  read(ref: string): Promise<Secret> {
    if (!validRef(ref))
      return Promise.reject(new TerminalBackendError(`secret reference ${JSON.stringify(ref)} is not a valid name`));
    const hit = this.cache.get(ref);
    if (hit && hit.until > this.now()) return hit.value;
    // Concurrent reads of one secret share one call; a failure is not cached.
    const value = this.fetch(ref);
    this.cache.set(ref, { value, until: this.now() + this.ttlMs });
    value.catch(() => this.cache.delete(ref));
    return value;
  }

  /** Store a secret's new value (creating it the first time); this container's cache follows. */
  async write(ref: string, secret: Secret): Promise<void> {
    if (!validRef(ref)) throw new TerminalBackendError(`secret reference ${JSON.stringify(ref)} is not a valid name`);
    const SecretString = JSON.stringify(secret);
    const SecretId = `${this.options.prefix}${ref}`;
    try {
      await this.client.send(new PutSecretValueCommand({ SecretId, SecretString }));
    } catch (err) {
      if ((err as { name?: unknown })?.name !== 'ResourceNotFoundException') throw err;
      await this.client.send(new CreateSecretCommand({ Name: SecretId, SecretString }));
    }
    this.cache.delete(ref);
  }

  private async fetch(ref: string): Promise<Secret> {
    let text: string | undefined;
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: `${this.options.prefix}${ref}` }));
      text = out.SecretString;
    } catch (err) {
      const name = (err as { name?: unknown })?.name;
      if (typeof name === 'string' && TERMINAL.has(name))
        throw new TerminalBackendError(`secret ${ref} cannot be read (${name})`, { cause: err });
      throw new RetryableBackendError(`secret ${ref}: Secrets Manager call failed`, { cause: err });
    }
    if (text === undefined) throw new TerminalBackendError(`secret ${ref} has no string value`);
    return parseSecret(ref, text);
  }
}

function validRef(ref: string): boolean {
  return REF.test(ref) && !ref.includes('..') && !ref.startsWith('/');
}
