import { JwtService } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { AccessTokenClaims, AccessTokens, IssuedAccessToken } from '../../application/ports/access-token.port';

const ALGORITHM = 'HS256';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface AccessTokenPayload {
  readonly sub: string;
  readonly sid: string;
  readonly exp?: number;
}

/**
 * HS256 JWTs carrying the user (sub) and session (sid). Verification pins the algorithm, so a
 * token saying `alg: none` or another algorithm is refused, whatever its signature.
 */
export class JwtAccessTokens implements AccessTokens {
  private readonly jwt: JwtService;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
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
    const payload: AccessTokenPayload = { sub: claims.userId, sid: claims.sessionId };
    return { token: await this.jwt.signAsync(payload), expiresIn: this.ttlSeconds };
  }

  async verify(token: string): Promise<AccessTokenClaims | null> {
    try {
      const payload = await this.jwt.verifyAsync<Partial<AccessTokenPayload>>(token);
      // Every token this service issues expires; one without `exp` is not ours to accept.
      if (typeof payload.exp !== 'number') return null;
      if (typeof payload.sub !== 'string' || !UUID.test(payload.sub)) return null;
      if (typeof payload.sid !== 'string' || !UUID.test(payload.sid)) return null;
      return { userId: payload.sub, sessionId: payload.sid };
    } catch {
      return null;
    }
  }
}
