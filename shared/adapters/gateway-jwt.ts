/**
 * Callers in AWS: API Gateway's JWT authorizer has already verified the Cognito ID token
 * (signature against the pool's keys, issuer, audience, expiry) before the API Lambda runs, and
 * only API Gateway may invoke that Lambda. This verifier reads the caller from the same token's
 * claims and re-checks issuer, audience, token use and expiry as defence in depth. The caller's
 * XOS user id is the `custom:xos_user_id` attribute (users cannot write it: the app client does
 * not allow it), and admins are the members of the admin group.
 */
import { randomBytes } from 'node:crypto';
import { TokenService } from '../auth/tokens';
import { UnauthorizedError } from '../errors';
import type { Caller } from '../model/define';

/** Where the trusted tokens come from. */
export interface GatewayJwtOptions {
  /** `https://cognito-idp.<region>.amazonaws.com/<pool id>`. */
  readonly issuer: string;
  /** The app client id (the ID token's `aud`). */
  readonly audience: string;
  /** Cognito group whose members are admins. */
  readonly adminGroup: string;
  readonly now?: () => number;
}

/**
 * Token "verification" behind the gateway's JWT authorizer. Tokens are never minted here: in AWS
 * users sign in with Cognito, and the local login route is not deployed.
 */
export class GatewayJwtTokens extends TokenService {
  private readonly clock: () => number;

  constructor(private readonly jwt: GatewayJwtOptions) {
    // The signing key is never used (issue() refuses): a random one keeps the base class honest.
    super(randomBytes(32));
    this.clock = jwt.now ?? Date.now;
  }

  override issue(): never {
    throw new Error('tokens are issued by Cognito in AWS; sign in through the user pool');
  }

  override verify(token: string): Caller {
    const body = token.split('.')[1];
    let claims: Record<string, unknown>;
    try {
      claims = JSON.parse(Buffer.from(body ?? '', 'base64url').toString('utf8'));
    } catch {
      throw new UnauthorizedError('malformed token');
    }
    if (claims.iss !== this.jwt.issuer || claims.aud !== this.jwt.audience || claims.token_use !== 'id')
      throw new UnauthorizedError('invalid token: send the Cognito ID token of this API');
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= this.clock())
      throw new UnauthorizedError('token expired');
    const userId = claims['custom:xos_user_id'];
    if (typeof userId !== 'string' || userId === '' || typeof claims.email !== 'string')
      throw new UnauthorizedError('this user pool account is not linked to an XOS user (custom:xos_user_id)');
    const groups = claims['cognito:groups'];
    return {
      userId,
      email: claims.email,
      isAdmin: Array.isArray(groups) && groups.includes(this.jwt.adminGroup),
    };
  }
}
