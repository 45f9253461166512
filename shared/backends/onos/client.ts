/**
 * One ONOS REST endpoint (Controller.auth_url) with HTTP Basic credentials from the secret named
 * by Controller.credentials_ref (`{"username","password"}`). Every call states the statuses the
 * contract gives for success; anything else becomes the classified back-end failure carrying
 * ONOS's own `{"code","message"}`. The credentials are read once per session and dropped on a 401,
 * so a rotated secret is picked up by the next retry; they never appear in a message.
 */
import { TerminalBackendError } from '../../errors';
import type { SecretsPort } from '../../secrets/secrets';
import type { StoredObject } from '../../store/store';
import { backendFailure } from '../failures';
import { type HttpReply, httpRequest } from '../http';

/** One request to ONOS. */
export interface OnosCall {
  readonly body?: unknown;
  /** Statuses that count as success (the contract's). */
  readonly ok: readonly number[];
  /** What the driver is doing, for messages. */
  readonly action: string;
}

/** The REST base of a controller: `auth_url` with any trailing `/onos/v1` or slash removed. */
export function onosBase(controller: StoredObject): string {
  const url = controller.auth_url;
  if (typeof url !== 'string' || url === '')
    throw new TerminalBackendError(`Controller ${controller.id} (onos) has no auth_url (the ONOS REST base URL)`);
  return url.replace(/\/+$/, '').replace(/\/onos\/v1$/, '');
}

/** A session with one ONOS. */
export class OnosClient {
  private auth?: Promise<string>;

  constructor(
    private readonly controller: StoredObject,
    private readonly secrets: SecretsPort,
    private readonly timeoutMs = 15_000,
  ) {}

  /** `METHOD path` (path absolute from the host, e.g. `/onos/v1/applications`). */
  async call(method: string, path: string, call: OnosCall): Promise<HttpReply> {
    const url = `${onosBase(this.controller)}${path.startsWith('/') ? path : `/${path}`}`;
    const reply = await httpRequest('onos', url, {
      method,
      body: call.body,
      headers: { authorization: await this.authorization() },
      timeoutMs: this.timeoutMs,
      action: call.action,
    });
    if (call.ok.includes(reply.status)) return reply;
    if (reply.status === 401) {
      this.auth = undefined;
      const realm = reply.headers.get('www-authenticate') ?? 'Basic';
      throw backendFailure('onos', {
        action: call.action,
        status: 401,
        body: { message: `credentials of ${this.controller.credentials_ref} refused (${realm})` },
      });
    }
    throw backendFailure('onos', { action: call.action, status: reply.status, body: reply.body });
  }

  private authorization(): Promise<string> {
    this.auth ??= (async () => {
      const ref = this.controller.credentials_ref;
      if (typeof ref !== 'string' || ref === '')
        throw new TerminalBackendError(`Controller ${this.controller.id} (onos) has no credentials_ref`);
      const secret = await this.secrets.read(ref);
      if (secret.username === undefined || secret.password === undefined)
        throw new TerminalBackendError(`secret ${ref} must hold username and password for ONOS Basic auth`);
      return `Basic ${Buffer.from(`${secret.username}:${secret.password}`).toString('base64')}`;
    })();
    const pending = this.auth;
    pending.catch(() => {
      if (this.auth === pending) this.auth = undefined;
    });
    return pending;
  }
}
