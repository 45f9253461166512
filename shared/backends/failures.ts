/**
 * Back-end failures, classified in one place: every driver turns what its back-end said (an HTTP
 * status and body, an EC2 error code, a network error) into RetryableBackendError or
 * TerminalBackendError through `backendFailure`, carrying the back-end's own message (Nova
 * `fault`, Neutron `NeutronError`, Keystone `error`, the EC2 error code, ONOS `{"code","message"}`).
 */
import { RetryableBackendError, TerminalBackendError } from '../errors';

/** The back-end families the drivers speak to. */
export type BackendFamily = 'openstack' | 'ec2' | 'onos';

/** What a back-end answered. */
export interface FailureDetail {
  /** HTTP status, when the back-end answered at all. */
  readonly status?: number;
  /** EC2 error code (`InvalidVpcID.NotFound`) or other symbolic code. */
  readonly code?: string;
  /** The parsed response body (for the back-end's own message). */
  readonly body?: unknown;
  /** What the driver was doing ("create Nova server xos-instance-01..."). */
  readonly action: string;
  /** A transport failure (connection refused, reset, timeout). */
  readonly network?: boolean;
  /** The request was the authentication itself: a 401 then means wrong credentials, not an expired token. */
  readonly authentication?: boolean;
}

/** EC2 error codes worth retrying (throttling, eventual consistency, capacity). */
const EC2_RETRYABLE = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'Unavailable',
  'InsufficientInstanceCapacity',
  'DependencyViolation',
  'IncorrectState',
  'IncorrectInstanceState',
  'InvalidInstanceID.NotFound',
  'InvalidVpcID.NotFound',
  'InvalidSubnetID.NotFound',
  'InvalidGroup.NotFound',
  'InvalidNetworkInterface.InUse',
]);

/** The back-end's own words, from the shapes each back-end uses for errors. */
export function backendMessage(family: BackendFamily, body: unknown, code?: string): string | undefined {
  // EC2: the error code, then EC2's own message (the driver passes the message as the body).
  if (family === 'ec2') {
    const said = typeof body === 'string' && body !== '' ? body : undefined;
    return code && said ? `${code}: ${said}` : (code ?? said);
  }
  if (body === null || body === undefined) return undefined;
  if (typeof body === 'string') return body.trim().slice(0, 500) || undefined;
  if (typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  if (family === 'onos') {
    // A 207 multi-status carries one message per failed part.
    const said = Array.isArray(b.message) ? b.message.map(String).join('; ') : b.message;
    if (typeof said === 'string') return typeof b.code === 'number' ? `${b.code} ${said}` : said;
    return undefined;
  }
  // OpenStack: Neutron {"NeutronError": {"type","message"}}, Keystone {"error": {"code","message","title"}},
  // Nova {"badRequest"|"itemNotFound"|"forbidden"|"conflictingRequest"|...: {"code","message"}},
  // a server's {"fault": {"code","message","details"}}, Glance plain text or {"message"}.
  const neutron = b.NeutronError as Record<string, unknown> | undefined;
  if (neutron && typeof neutron.message === 'string')
    return typeof neutron.type === 'string' ? `${neutron.type}: ${neutron.message}` : neutron.message;
  const fault = b.fault as Record<string, unknown> | undefined;
  if (fault && typeof fault.message === 'string') return fault.message;
  for (const value of Object.values(b)) {
    if (value && typeof value === 'object' && typeof (value as Record<string, unknown>).message === 'string')
      return (value as Record<string, string>).message;
  }
  // Glance's JSON error message ends in HTML line breaks.
  if (typeof b.message === 'string') return b.message.replace(/(<br \/>\s*)+$/, '').trim();
  return undefined;
}

/** Whether a failure is worth retrying. */
export function isRetryable(family: BackendFamily, detail: FailureDetail): boolean {
  if (detail.network) return true;
  if (family === 'ec2' && detail.code !== undefined) return EC2_RETRYABLE.has(detail.code);
  const status = detail.status;
  if (status === undefined) return true;
  if (detail.authentication && status === 401) return false;
  // 401: an expired token (drivers re-authenticate once, then retry); 408/429: time and rate limits;
  // 409: a resource still in use or in transition; 5xx: the back-end's own trouble.
  return status === 401 || status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The error a driver throws for a back-end failure. */
export function backendFailure(family: BackendFamily, detail: FailureDetail): Error {
  const said = backendMessage(family, detail.body, detail.code);
  const status = detail.status !== undefined ? ` (HTTP ${detail.status})` : '';
  const message = `${family}: ${detail.action} failed${status}${said ? `: ${said}` : ''}`;
  return isRetryable(family, detail) ? new RetryableBackendError(message) : new TerminalBackendError(message);
}
