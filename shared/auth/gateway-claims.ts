/**
 * Callers from API Gateway's JWT authorizer: the gateway verified the Cognito token (signature,
 * issuer, audience, expiry) and hands its claims to the API Lambda in
 * `event.requestContext.authorizer.jwt.claims`. This maps them to an XOS User: the
 * `custom:xos_user_id` attribute when the pool carries it, else the `email` claim (ID tokens), else
 * `cognito:username` / `username` (access tokens), looked up as the user's email or username.
 * Lookups are cached per container (a login name's user id does not change; the per-request check
 * re-reads the user anyway and evicts a stale entry). The admin flag always comes from the XOS
 * user, never from the token or its groups.
 */
import { UnauthorizedError } from '../errors';
import { OBJECT_ID } from '../model/fields';
import type { TokenCaller } from './tokens';

/** Claims as API Gateway passes them (values are strings, numbers, booleans or string lists). */
export type GatewayClaims = Readonly<Record<string, unknown>>;

/** Finds the id of the user with a login name (email or username). */
export type UserIdLookup = (login: string) => Promise<string | undefined>;

/** Most login names remembered per container. */
const CACHE_LIMIT = 10_000;

/** The login a claim set names: [login, the claim it came from]. */
export function loginOfClaims(claims: GatewayClaims): string | undefined {
  for (const name of ['email', 'cognito:username', 'username']) {
    const v = claims[name];
    if (typeof v === 'string' && v.length > 0 && v.length <= 255) {
      if (name === 'email' && claims.email_verified === 'false') continue;
      return v;
    }
  }
  return undefined;
}

/** Maps gateway claims to the caller a token stands for (then re-checked like any token). */
export class GatewayClaimsMapper {
  private readonly cache = new Map<string, string>();

  constructor(private readonly lookup: UserIdLookup) {}

  /** The claimed caller; 401 when the claims name no XOS user. */
  async caller(claims: GatewayClaims): Promise<TokenCaller & { login?: string }> {
    const direct = claims['custom:xos_user_id'];
    if (typeof direct === 'string' && OBJECT_ID.test(direct)) {
      return { userId: direct, email: String(claims.email ?? ''), isAdmin: false };
    }
    const login = loginOfClaims(claims);
    if (!login) throw new UnauthorizedError('the token names no user (email or cognito:username)');
    let userId = this.cache.get(login);
    if (userId === undefined) {
      userId = await this.lookup(login);
      if (userId === undefined) throw new UnauthorizedError('this account is not an XOS user');
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(login, userId);
    }
    return { userId, email: login, isAdmin: false, login };
  }

  /** Forget a login whose cached user turned out not to match any more. */
  forget(login: string): void {
    this.cache.delete(login);
  }
}
