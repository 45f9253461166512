/**
 * The one place errors become HTTP responses. Client errors carry their message and fields; any
 * other failure is an opaque 500 with the request id (details go to the log, never the client).
 */
import { type ErrorCode, TooManyRequestsError, XosError } from '../errors';
import { type ApiResponse, json } from './http';

/** Minimal structured logger port. */
export interface Logger {
  error(message: string, detail: Record<string, unknown>): void;
  info(message: string, detail: Record<string, unknown>): void;
}

/** The error body shape. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; fields?: Record<string, string>; request_id: string };
}

/** Map any thrown value to a response. */
export function errorResponse(err: unknown, requestId: string, log: Logger): ApiResponse {
  if (err instanceof XosError && err.status < 500) {
    const body: ErrorBody = { error: { code: err.code, message: err.message, request_id: requestId } };
    if (err.fields) body.error.fields = err.fields;
    const headers: Record<string, string> = err.status === 401 ? { 'www-authenticate': 'Bearer realm="xos"' } : {};
    if (err instanceof TooManyRequestsError) headers['retry-after'] = String(err.retryAfterSeconds);
    return json(err.status, body, headers);
  }
  log.error('unhandled error', {
    request_id: requestId,
    error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
  });
  return json(500, { error: { code: 'internal_error', message: 'internal error', request_id: requestId } });
}
