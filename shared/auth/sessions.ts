/**
 * Login sessions: what a token is checked against on every request, refresh-token rotation,
 * logout (revocation) and the lockout after repeated failed logins. The records live in the same
 * table as the model (the AuthStore port; DynamoDB in `shared/adapters/dynamodb/auth-store.ts`).
 *
 * Per request the API reads the caller's user item and session item together (one BatchGetItem),
 * so a demoted admin, a deactivated or deleted user and a logged-out session lose access at once,
 * not when the token expires.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ulid } from 'ulid';
import { TooManyRequestsError, UnauthorizedError } from '../errors';
import type { Caller } from '../model/define';
import type { TokenCaller, TokenService } from './tokens';

/** The user attributes an authentication check needs. */
export interface Principal {
  readonly id: string;
  readonly email: string;
  readonly username?: string;
  readonly is_admin: boolean;
  readonly is_active: boolean;
  readonly deleted: boolean;
}

/** A login session: the refresh token's hash, its expiry, and whether it was revoked. */
export interface SessionRecord {
  readonly id: string;
  readonly user_id: string;
  /** sha256 (base64url) of the current refresh secret; rotated on every refresh. */
  readonly refresh_hash: string;
  readonly created: string;
  readonly expires: string;
  readonly revoked: boolean;
}

/** Failed logins of one login name. */
export interface LoginFailures {
  readonly failures: number;
  readonly first_failure: string;
  readonly locked_until?: string;
}

/** Persistence of sessions and login failures. */
export interface AuthStore {
  /** The user and (when given) the session, in one round trip. */
  principal(userId: string, sessionId?: string): Promise<{ user?: Principal; session?: SessionRecord }>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  putSession(session: SessionRecord): Promise<void>;
  /** Replace the refresh hash only if it is still `expectedHash`; false when it moved (a reused token). */
  rotateSession(id: string, expectedHash: string, nextHash: string, expires: string): Promise<boolean>;
  revokeSession(id: string): Promise<void>;
  loginFailures(key: string): Promise<LoginFailures | undefined>;
  /** Count one failure in the window starting at `windowStart` (older counts restart); returns the count. */
  addLoginFailure(key: string, now: string, windowStart: string, ttlSeconds: number): Promise<LoginFailures>;
  lockLogin(key: string, until: string): Promise<void>;
  clearLoginFailures(key: string): Promise<void>;
}

/** Lockout and session lifetimes. */
export interface SessionPolicy {
  /** Failed logins within `failureWindowSeconds` that lock the login name. */
  readonly maxFailures: number;
  readonly failureWindowSeconds: number;
  readonly lockoutSeconds: number;
  readonly refreshTtlSeconds: number;
}

/** Defaults: 5 failures in 15 minutes lock the login for 15 minutes; refresh tokens last 7 days. */
export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  maxFailures: 5,
  failureWindowSeconds: 900,
  lockoutSeconds: 900,
  refreshTtlSeconds: 7 * 86_400,
};

/** What a successful login or refresh answers. */
export interface TokenPair {
  readonly token: string;
  readonly expires_at: string;
  readonly refresh_token: string;
  readonly refresh_expires_at: string;
  readonly user_id: string;
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/** The lockout key of a login name: a hash, so the table holds no login names in keys. */
export function loginKey(login: string): string {
  return hashSecret(`login:${login.trim().toLowerCase()}`);
}

/** Sessions, refresh, logout and lockout over an AuthStore. */
export class Sessions {
  constructor(
    private readonly store: AuthStore,
    private readonly tokens: TokenService,
    readonly policy: SessionPolicy = DEFAULT_SESSION_POLICY,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** 429 when the login name is locked out. */
  async assertNotLocked(login: string): Promise<void> {
    const record = await this.store.loginFailures(loginKey(login));
    const until = record?.locked_until ? Date.parse(record.locked_until) : 0;
    const left = Math.ceil((until - this.now().getTime()) / 1000);
    if (left > 0) {
      throw new TooManyRequestsError(
        `too many failed logins for this account; try again in ${left} seconds (at ${new Date(until).toISOString()})`,
        left,
      );
    }
  }

  /** Count a failed login; the one that reaches the limit locks the login name. */
  async failed(login: string): Promise<void> {
    const now = this.now();
    const key = loginKey(login);
    const windowStart = new Date(now.getTime() - this.policy.failureWindowSeconds * 1000).toISOString();
    const ttl = this.policy.failureWindowSeconds + this.policy.lockoutSeconds;
    const record = await this.store.addLoginFailure(key, now.toISOString(), windowStart, ttl);
    if (record.failures >= this.policy.maxFailures) {
      await this.store.lockLogin(key, new Date(now.getTime() + this.policy.lockoutSeconds * 1000).toISOString());
    }
  }

  /** Start a session for a user who just proved their password. */
  async start(user: Principal, login: string, hadFailures: boolean): Promise<TokenPair> {
    if (hadFailures) await this.store.clearLoginFailures(loginKey(login));
    const id = ulid();
    const secret = randomBytes(32).toString('base64url');
    const now = this.now();
    const expires = new Date(now.getTime() + this.policy.refreshTtlSeconds * 1000).toISOString();
    await this.store.putSession({
      id,
      user_id: user.id,
      refresh_hash: hashSecret(secret),
      created: now.toISOString(),
      expires,
      revoked: false,
    });
    return this.pair(user, id, secret, expires);
  }

  /** Whether a login name has failures on record (so a success must clear them). */
  async hasFailures(login: string): Promise<boolean> {
    return (await this.store.loginFailures(loginKey(login))) !== undefined;
  }

  /**
   * Trade a refresh token for a new pair, rotating the refresh secret. Presenting a secret that was
   * already rotated away (a stolen copy, replayed) revokes the whole session.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const m = /^([0-9A-HJKMNP-TV-Z]{26})\.([A-Za-z0-9_-]{43})$/.exec(refreshToken);
    if (!m) throw new UnauthorizedError('invalid refresh token');
    const [, id, secret] = m as unknown as [string, string, string];
    const session = await this.store.getSession(id);
    if (!session || session.revoked || Date.parse(session.expires) <= this.now().getTime()) {
      throw new UnauthorizedError('refresh token expired or revoked; log in again');
    }
    const given = Buffer.from(hashSecret(secret));
    const expected = Buffer.from(session.refresh_hash);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      await this.store.revokeSession(id);
      throw new UnauthorizedError('refresh token already used; the session is revoked, log in again');
    }
    const { user } = await this.store.principal(session.user_id);
    if (!user || user.deleted || !user.is_active) throw new UnauthorizedError('refresh token expired or revoked');
    const next = randomBytes(32).toString('base64url');
    const expires = new Date(this.now().getTime() + this.policy.refreshTtlSeconds * 1000).toISOString();
    if (!(await this.store.rotateSession(id, session.refresh_hash, hashSecret(next), expires))) {
      await this.store.revokeSession(id);
      throw new UnauthorizedError('refresh token already used; the session is revoked, log in again');
    }
    return this.pair(user, id, next, expires);
  }

  /** Revoke the session a token belongs to (logout): its access and refresh tokens stop working now. */
  async revoke(sessionId: string): Promise<void> {
    await this.store.revokeSession(sessionId);
  }

  /**
   * The caller a verified token stands for, re-checked against the current user (and its session,
   * when the token has one): one round trip. The admin flag comes from the user, never the token.
   */
  async check(claimed: TokenCaller, expectLogin?: string): Promise<Caller & { sessionId?: string }> {
    const { user, session } = await this.store.principal(claimed.userId, claimed.sessionId);
    if (!user || user.deleted || !user.is_active) throw new UnauthorizedError('user no longer active');
    if (
      expectLogin !== undefined &&
      user.email.toLowerCase() !== expectLogin.toLowerCase() &&
      user.username !== expectLogin
    ) {
      throw new UnauthorizedError('this account is not an XOS user');
    }
    if (claimed.sessionId !== undefined) {
      if (!session || session.revoked || session.user_id !== user.id) throw new UnauthorizedError('session revoked');
    }
    return { userId: user.id, email: user.email, isAdmin: user.is_admin, sessionId: claimed.sessionId };
  }

  private pair(user: Principal, sessionId: string, secret: string, refreshExpires: string): TokenPair {
    const access = this.tokens.issue({ userId: user.id, email: user.email, isAdmin: user.is_admin }, sessionId);
    return {
      token: access.token,
      expires_at: access.expires_at,
      refresh_token: `${sessionId}.${secret}`,
      refresh_expires_at: refreshExpires,
      user_id: user.id,
    };
  }
}
