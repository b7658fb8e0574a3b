import { JwtService } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { AccessTokenClaims, AccessTokens, AccessTokenVerdict, IssuedAccessToken } from '../../application/ports/access-token.port';
import { Clock, systemClock } from '../../application/ports/clock.port';
import { ACCESS_TOKEN_TYPE, AccessTokenPayload, claimsOf, EXPIRED, INVALID, verdictOf } from './access-token-claims';

export { ACCESS_TOKEN_CLOCK_SKEW_SECONDS } from './access-token-claims';

const ALGORITHM = 'HS256';

/**
 * HS256 JWTs carrying the user (sub) and session (sid): the default signer, one shared secret.
 * Verification pins the algorithm and the type, so a token saying `alg: none` or another
 * algorithm is refused, whatever its signature; then acceptedClaims decides (lifetime, iat, ids).
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
    return claimsOf(await this.check(token));
  }

  async check(token: string): Promise<AccessTokenVerdict> {
    try {
      const now = this.nowSeconds();
      const { header, payload } = await this.jwt.verifyAsync<{ header: { typ?: unknown }; payload: Partial<AccessTokenPayload> }>(token, {
        clockTimestamp: now,
        complete: true,
      });
      if (header.typ !== ACCESS_TOKEN_TYPE) return INVALID;
      return verdictOf(payload, now, this.ttlSeconds);
    } catch (error) {
      // jsonwebtoken checks the signature before the expiry: an expired token was one of ours.
      return (error as Error | null)?.name === 'TokenExpiredError' ? EXPIRED : INVALID;
    }
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }
}
