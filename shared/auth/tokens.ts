/**
 * Access tokens: compact JWS (HS256) signed with a server secret, short-lived (15 minutes by
 * default), each bound to a login session (`sid`) that refresh rotates and logout revokes. In AWS
 * the same claims can come from a Cognito/JWT authorizer; this issuer serves the local runtime and tests.
 * A verified token is only a claim: the API re-checks it against the session and the user per request.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../errors';
import type { Caller } from '../model/define';

/** Issuer claim of tokens minted here. */
export const ISSUER = 'xos';

/** Claims carried by a token. */
export interface TokenClaims {
  readonly sub: string;
  readonly email: string;
  readonly adm: boolean;
  /** The login session the token belongs to. */
  readonly sid?: string;
  readonly iat: number;
  readonly exp: number;
  readonly iss: string;
}

/** Default access-token lifetime: short, because refresh tokens renew it. */
export const DEFAULT_ACCESS_TTL_SECONDS = 900;

/** The caller a token names, and the session it was issued in (absent for tokens from elsewhere). */
export type TokenCaller = Caller & { readonly sessionId?: string };

/** Signs and verifies tokens with one secret. */
export class TokenService {
  private readonly secret: Buffer;

  /** @param secret at least 32 bytes of key material. @param ttlSeconds token lifetime. */
  constructor(
    secret: string | Buffer,
    readonly ttlSeconds = DEFAULT_ACCESS_TTL_SECONDS,
    private readonly now: () => number = Date.now,
  ) {
    this.secret = Buffer.isBuffer(secret) ? secret : Buffer.from(secret, 'utf8');
    if (this.secret.length < 32) throw new Error('token secret must be at least 32 bytes');
  }

  /** Mint a token for a caller, in a login session. */
  issue(caller: Caller, sessionId?: string): { token: string; expires_at: string } {
    const iat = Math.floor(this.now() / 1000);
    const claims: TokenClaims = {
      sub: caller.userId,
      email: caller.email,
      adm: caller.isAdmin,
      ...(sessionId === undefined ? {} : { sid: sessionId }),
      iat,
      exp: iat + this.ttlSeconds,
      iss: ISSUER,
    };
    const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const body = b64url(JSON.stringify(claims));
    const sig = this.sign(`${head}.${body}`);
    return { token: `${head}.${body}.${sig}`, expires_at: new Date(claims.exp * 1000).toISOString() };
  }

  /** Verify a token and return its caller; UnauthorizedError when malformed, forged or expired. */
  verify(token: string): TokenCaller {
    const parts = token.split('.');
    if (parts.length !== 3) throw new UnauthorizedError('malformed token');
    const [head, body, sig] = parts as [string, string, string];
    const expected = Buffer.from(this.sign(`${head}.${body}`));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      throw new UnauthorizedError('invalid token');
    let header: unknown;
    let claims: Partial<TokenClaims>;
    try {
      header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw new UnauthorizedError('malformed token');
    }
    if ((header as { alg?: unknown })?.alg !== 'HS256' || claims.iss !== ISSUER)
      throw new UnauthorizedError('invalid token');
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= this.now()) throw new UnauthorizedError('token expired');
    if (typeof claims.sub !== 'string' || typeof claims.email !== 'string')
      throw new UnauthorizedError('invalid token');
    if (claims.sid !== undefined && typeof claims.sid !== 'string') throw new UnauthorizedError('invalid token');
    const caller = { userId: claims.sub, email: claims.email, isAdmin: claims.adm === true };
    return claims.sid === undefined ? caller : { ...caller, sessionId: claims.sid };
  }

  private sign(input: string): string {
    return createHmac('sha256', this.secret).update(input).digest('base64url');
  }
}

function b64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}
