/**
 * The runtime-neutral HTTP shapes of the API core. The Lambda adapter (functions/api) and the
 * local dev server both translate to and from these.
 */

/** An HTTP request as the core sees it. Header names are lowercase. */
export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Correlation id, echoed in error bodies and logs. */
  readonly requestId: string;
  /**
   * Claims of a JWT that API Gateway's authorizer already verified
   * (`event.requestContext.authorizer.jwt.claims`); set only by the Lambda adapter, never from
   * anything a client sends.
   */
  readonly jwtClaims?: Readonly<Record<string, unknown>>;
}

/** An HTTP response from the core. */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A JSON response. */
export function json(status: number, value: unknown, headers: Record<string, string> = {}): ApiResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(value),
  };
}
