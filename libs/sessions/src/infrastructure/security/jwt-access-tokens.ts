import { JwtService } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { AccessTokenClaims, AccessTokens, IssuedAccessToken } from '../../application/ports/access-token.port';
import { Clock, systemClock } from '../../application/ports/clock.port';

const ALGORITHM = 'HS256';
/**
 * Lower-case only: ids are written to cache keys exactly as the token carries them, while
 * PostgreSQL compares uuids regardless of case. An upper-case sid found its session active in the
 * database, cached "active" under its own key, and outlived the revocation marked under the
 * canonical one (issue 8 #17). Every id this service issues is lower-case.
 */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Clock difference tolerated between the instance that signed a token and the one checking it. */
export const ACCESS_TOKEN_CLOCK_SKEW_SECONDS = 30;

interface AccessTokenPayload {
  readonly sub: string;
  readonly sid: string;
  readonly iat?: number;
  readonly exp?: number;
}

/**
 * HS256 JWTs carrying the user (sub) and session (sid). Verification pins the algorithm, so a
 * token saying `alg: none` or another algorithm is refused, whatever its signature. A token must
 * also look like one this service issues: canonical ids, an `iat` not in the future and a
 * lifetime (`exp - iat`) no longer than the configured one, so even a token signed with a leaked
 * secret cannot claim ten years.
 */
export class JwtAccessTokens implements AccessTokens {
  private readonly jwt: JwtService;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
    private readonly clock: Clock = systemClock,
  ) {
    // A KeyObject, not the string: given a string, jsonwebtoken first tries to parse it as a PEM
    // public key on every verification and throws, which was 40% of GET /auth/me's CPU time
    // (node --cpu-prof, see README "Performance").
    const key = createSecretKey(Buffer.from(secret, 'utf8'));
    this.jwt = new JwtService({
      secretOrKeyProvider: () => key,
      signOptions: { algorithm: ALGORITHM, expiresIn: ttlSeconds },
      verifyOptions: { algorithms: [ALGORITHM] },
    });
  }

  async issue(claims: AccessTokenClaims): Promise<IssuedAccessToken> {
    const payload: AccessTokenPayload = { sub: claims.userId, sid: claims.sessionId, iat: this.nowSeconds() };
    return { token: await this.jwt.signAsync(payload), expiresIn: this.ttlSeconds };
  }

  async verify(token: string): Promise<AccessTokenClaims | null> {
    try {
      const now = this.nowSeconds();
      const payload = await this.jwt.verifyAsync<Partial<AccessTokenPayload>>(token, { clockTimestamp: now });
      // Every token this service issues expires; one without `exp` is not ours to accept.
      if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number') return null;
      if (payload.iat > now + ACCESS_TOKEN_CLOCK_SKEW_SECONDS) return null;
      if (payload.exp - payload.iat > this.ttlSeconds + ACCESS_TOKEN_CLOCK_SKEW_SECONDS) return null;
      if (typeof payload.sub !== 'string' || !CANONICAL_UUID.test(payload.sub)) return null;
      if (typeof payload.sid !== 'string' || !CANONICAL_UUID.test(payload.sid)) return null;
      return { userId: payload.sub, sessionId: payload.sid };
    } catch {
      return null;
    }
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }
}
