/**
 * A small JSON-over-HTTP client for the drivers (OpenStack, ONOS): a timeout on every call,
 * transport failures turned into retryable back-end errors, and nothing of the request's
 * credentials ever put into an error message.
 */
import { type BackendFamily, backendFailure } from './failures';

/** One HTTP exchange's outcome. */
export interface HttpReply {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON when the reply is JSON, the text otherwise, undefined when empty. */
  readonly body: unknown;
}

/** One request. */
export interface HttpRequest {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** Serialized as JSON unless a string. */
  readonly body?: unknown;
  readonly timeoutMs?: number;
  /** What the driver is doing, for error messages. */
  readonly action: string;
}

/** Perform a request; only transport failures throw (as retryable). Callers judge the status. */
export async function httpRequest(family: BackendFamily, url: string, req: HttpRequest): Promise<HttpReply> {
  const headers: Record<string, string> = { accept: 'application/json', ...(req.headers ?? {}) };
  let payload: string | undefined;
  if (req.body !== undefined) {
    payload = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    headers['content-type'] ??= 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method ?? 'GET',
      headers,
      body: payload,
      signal: AbortSignal.timeout(req.timeoutMs ?? 30_000),
    });
  } catch (err) {
    // fetch rejects with the signal's TimeoutError, or wraps it as the cause of a TypeError.
    const timedOut = [err, (err as { cause?: unknown })?.cause].some(
      (e) => e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError'),
    );
    const why = timedOut ? 'timed out' : 'could not connect';
    throw backendFailure(family, { action: `${req.action} (${why})`, network: true });
  }
  const text = await res.text();
  let body: unknown;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: res.status, headers: res.headers, body };
}

/** Perform a request and throw the classified back-end failure unless the status is expected. */
export async function httpExpect(
  family: BackendFamily,
  url: string,
  req: HttpRequest,
  ok: readonly number[] = [200, 201, 202, 204],
): Promise<HttpReply> {
  const reply = await httpRequest(family, url, req);
  if (!ok.includes(reply.status))
    throw backendFailure(family, { action: req.action, status: reply.status, body: reply.body });
  return reply;
}
