/**
 * The secrets port: controller credentials live outside the model (the item holds only
 * `credentials_ref`, the secret's name). AWS Secrets Manager in the cloud
 * (shared/adapters/secrets-manager.ts); locally an AES-256-GCM encrypted file or the environment.
 * A secret is a flat map of strings (`{"password": "..."}`, `{"access_key_id": "...", ...}`).
 * Errors name the reference, never the value.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { TerminalBackendError } from '../errors';

/** A secret's fields. */
export type Secret = Readonly<Record<string, string>>;

/** Reads secrets by reference. */
export interface SecretsPort {
  /** The secret named `ref`; TerminalBackendError when it does not exist or is malformed. */
  read(ref: string): Promise<Secret>;
}

/** Validate a decoded secret: an object of strings. */
export function parseSecret(ref: string, text: string): Secret {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TerminalBackendError(`secret ${ref} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TerminalBackendError(`secret ${ref} must be a JSON object of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new TerminalBackendError(`secret ${ref}: field ${k} must be a string`);
    out[k] = v;
  }
  return out;
}

/** Environment variable holding secret `ref` as JSON: XOS_SECRET_<REF upper-cased, non-alphanumerics as _>. */
export function envSecretName(ref: string): string {
  return `XOS_SECRET_${ref.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Secrets from the environment (CI, containers). */
export class EnvSecrets implements SecretsPort {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async read(ref: string): Promise<Secret> {
    const text = this.env[envSecretName(ref)];
    if (text === undefined) throw new TerminalBackendError(`secret ${ref} not found (set ${envSecretName(ref)})`);
    return parseSecret(ref, text);
  }
}

/** Secrets held in memory (tests, the local demo). */
export class MemorySecrets implements SecretsPort {
  private readonly secrets = new Map<string, Secret>();

  set(ref: string, secret: Secret): void {
    this.secrets.set(ref, { ...secret });
  }

  async read(ref: string): Promise<Secret> {
    const secret = this.secrets.get(ref);
    if (!secret) throw new TerminalBackendError(`secret ${ref} not found`);
    return secret;
  }
}

/** Tries each port in turn; the first that has the secret wins. */
export class ChainSecrets implements SecretsPort {
  constructor(private readonly ports: readonly SecretsPort[]) {}

  async read(ref: string): Promise<Secret> {
    let last: unknown;
    for (const port of this.ports) {
      try {
        return await port.read(ref);
      } catch (err) {
        last = err;
      }
    }
    throw last ?? new TerminalBackendError(`secret ${ref} not found`);
  }
}

interface SealedFile {
  readonly format: 'xos-secrets-v1';
  /** ref -> base64(iv | tag | ciphertext) */
  readonly secrets: Record<string, string>;
}

/**
 * Secrets in one local file, each sealed with AES-256-GCM under a key derived from a passphrase
 * (XOS_SECRETS_KEY). The file is written 0600 and replaced atomically.
 */
export class FileSecrets implements SecretsPort {
  private readonly key: Buffer;

  constructor(
    private readonly path: string,
    passphrase: string,
  ) {
    if (passphrase.length < 16) throw new Error('the secrets passphrase must be at least 16 characters');
    this.key = createHash('sha256').update(`xos-secrets-v1:${passphrase}`).digest();
  }

  async read(ref: string): Promise<Secret> {
    const sealed = this.load().secrets[ref];
    if (sealed === undefined) throw new TerminalBackendError(`secret ${ref} not found`);
    const raw = Buffer.from(sealed, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      decipher.setAAD(Buffer.from(ref));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      return parseSecret(ref, text);
    } catch (err) {
      if (err instanceof TerminalBackendError) throw err;
      throw new TerminalBackendError(`secret ${ref} cannot be decrypted with this key`);
    }
  }

  /** Store (or replace) a secret. */
  write(ref: string, secret: Secret): void {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(ref));
    const body = Buffer.concat([cipher.update(JSON.stringify(secret), 'utf8'), cipher.final()]);
    const file = this.load();
    const next: SealedFile = {
      format: 'xos-secrets-v1',
      secrets: { ...file.secrets, [ref]: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64') },
    };
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
  }

  private load(): SealedFile {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return { format: 'xos-secrets-v1', secrets: {} };
    }
    const parsed = JSON.parse(text) as SealedFile;
    if (parsed.format !== 'xos-secrets-v1') throw new Error(`${this.path} is not an XOS secrets file`);
    return parsed;
  }
}
