/**
 * The error hierarchy of the core. Every failure the API can report is one of these; they are
 * mapped to HTTP in exactly one place (`shared/api/http-errors.ts`).
 */

/** Field name -> human message, the `fields` member of the error body. */
export type FieldErrors = Record<string, string>;

/** Machine-readable error codes of the one error shape. */
export type ErrorCode =
  | 'validation_error'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_requests'
  | 'internal_error';

/** Base class: carries a code, an HTTP status, optional offending fields and the cause. */
export class XosError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fields?: FieldErrors;

  constructor(code: ErrorCode, status: number, message: string, options?: { fields?: FieldErrors; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    if (options?.fields && Object.keys(options.fields).length > 0) this.fields = options.fields;
  }
}

/** Bad input: 400 with the offending fields. */
export class ValidationError extends XosError {
  constructor(message: string, fields?: FieldErrors, cause?: unknown) {
    super('validation_error', 400, message, { fields, cause });
  }
}

/** Missing, malformed, forged or expired credentials: 401. */
export class UnauthorizedError extends XosError {
  constructor(message = 'authentication required') {
    super('unauthorized', 401, message);
  }
}

/** Authenticated but not allowed (including writes to feedback fields): 403. */
export class ForbiddenError extends XosError {
  constructor(message: string, fields?: FieldErrors) {
    super('forbidden', 403, message, { fields });
  }
}

/** No such object (or route): 404. */
export class NotFoundError extends XosError {
  constructor(message: string) {
    super('not_found', 404, message);
  }
}

/** Route exists, verb does not: 405. */
export class MethodNotAllowedError extends XosError {
  constructor(message: string) {
    super('method_not_allowed', 405, message);
  }
}

/** Stale version, duplicate unique value, write-protected object, concurrent write: 409. */
export class ConflictError extends XosError {
  constructor(message: string, fields?: FieldErrors, cause?: unknown) {
    super('conflict', 409, message, { fields, cause });
  }
}

/** Request body over the limit: 413. */
export class PayloadTooLargeError extends XosError {
  constructor(limitBytes: number) {
    super('payload_too_large', 413, `request body exceeds ${limitBytes} bytes`);
  }
}

/** Locked out after repeated failed logins: 429 with Retry-After. */
export class TooManyRequestsError extends XosError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('too_many_requests', 429, message);
  }
}

/** Body that is not JSON: 415. */
export class UnsupportedMediaTypeError extends XosError {
  constructor(message: string) {
    super('unsupported_media_type', 415, message);
  }
}

/**
 * A back-end failure worth retrying (timeouts, 5xx, throttling). Its `name` is the error name the
 * reconcile state machine's Retry matches, and crosses the Lambda boundary as the error type.
 */
export class RetryableBackendError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Backend.Retryable';
  }
}

/** A back-end failure that retrying cannot fix (bad request, quota, ERROR state): recorded, not retried. */
export class TerminalBackendError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Backend.Terminal';
  }
}
