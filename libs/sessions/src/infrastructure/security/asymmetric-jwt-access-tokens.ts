import { createLocalJWKSet, type JWTHeaderParameters, jwtVerify, SignJWT } from 'jose';
import { AccessTokenClaims, AccessTokens, AccessTokenVerdict, IssuedAccessToken } from '../../application/ports/access-token.port';
import { Clock, systemClock } from '../../application/ports/clock.port';
import { ACCESS_TOKEN_TYPE, AccessTokenPayload, claimsOf, EXPIRED, INVALID, verdictOf } from './access-token-claims';
import { AccessTokenKeyring } from './access-token-keyring';

/**
 * EdDSA (Ed25519) or ES256 JWTs, signed with the keyring's private key and carrying its `kid`,
 * so services holding only the JWKS can verify them offline. Verification takes the key named by
 * `kid` from the JWKS (current and previous keys) and pins the algorithms to those keys': a token
 * saying `alg: none`, or HS256 (the algorithm-confusion attack that signs with the public key as
 * an HMAC secret), is refused before any key is used. Then acceptedClaims decides, as for HS256.
 */
export class AsymmetricJwtAccessTokens implements AccessTokens {
  private readonly keySet: ReturnType<typeof createLocalJWKSet>;
  private readonly algorithms: string[];

  constructor(
    private readonly keyring: AccessTokenKeyring,
    private readonly ttlSeconds: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.keySet = createLocalJWKSet({ keys: keyring.jwks.keys.map((key) => ({ ...key })) });
    this.algorithms = keyring.algorithms();
  }

  async issue(claims: AccessTokenClaims): Promise<IssuedAccessToken> {
    const now = this.nowSeconds();
    const payload: AccessTokenPayload = { sub: claims.userId, sid: claims.sessionId };
    const token = await new SignJWT({ ...payload })
      .setProtectedHeader({ alg: this.keyring.algorithm, typ: ACCESS_TOKEN_TYPE, kid: this.keyring.keyId })
      .setIssuedAt(now)
      .setExpirationTime(now + this.ttlSeconds)
      .sign(this.keyring.signingKey);
    return { token, expiresIn: this.ttlSeconds };
  }

  async verify(token: string): Promise<AccessTokenClaims | null> {
    return claimsOf(await this.check(token));
  }

  async check(token: string): Promise<AccessTokenVerdict> {
    try {
      const now = this.nowSeconds();
      const { payload } = await jwtVerify<Partial<AccessTokenPayload>>(
        token,
        (header: JWTHeaderParameters, jws) => {
          // Every token this service signs names its key; without a kid any key of the set would do.
          if (typeof header.kid !== 'string') throw new Error('no kid');
          return this.keySet(header, jws);
        },
        {
          algorithms: this.algorithms,
          typ: ACCESS_TOKEN_TYPE,
          currentDate: new Date(now * 1000),
        },
      );
      return verdictOf(payload, now, this.ttlSeconds);
    } catch (error) {
      // jose verifies the signature before the claims: an expired token was one of ours.
      return (error as { code?: unknown } | null)?.code === 'ERR_JWT_EXPIRED' ? EXPIRED : INVALID;
    }
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }
}
