import { type CanActivate, type ExecutionContext, Inject, Injectable, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { createRemoteJWKSet, type JWTHeaderParameters, jwtVerify } from 'jose';
import { bearerToken } from '../http/access-token.guard';
import { ACCESS_TOKEN_TYPE, acceptedClaims } from '../infrastructure/security/access-token-claims';
import { OFFLINE_ACCESS_TOKEN_OPTIONS, ResolvedOfflineAccessTokenOptions } from './offline-access-token.options';
import { OfflineRevocationList } from './offline-revocation-list';

/** What the guard attaches to the request it lets in. */
export interface OfflineAuthenticatedRequest {
  offlineSession?: { readonly userId: string; readonly sessionId: string };
}

/**
 * Guards a route of another service with the sessions service's access tokens, verified offline:
 * the signature against the published JWKS (EdDSA or ES256 only, the key named by the token's
 * kid; an unknown kid refetches the set, so a rotated-in key is found at once), the expiry, then
 * the session against the deny list of the revocation feed. 401 for a bad, expired or revoked
 * token; 503 while the feed has not been read within maxFeedAgeMs.
 */
@Injectable()
export class OfflineAccessTokenGuard implements CanActivate {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;
  private readonly ttlSeconds: number;

  constructor(
    @Inject(OFFLINE_ACCESS_TOKEN_OPTIONS) options: ResolvedOfflineAccessTokenOptions,
    private readonly revocations: OfflineRevocationList,
  ) {
    this.keys = createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: options.requestTimeoutMs });
    this.ttlSeconds = options.accessTokenTtlSeconds;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> } & OfflineAuthenticatedRequest>();
    const header = request.headers.authorization;
    const token = bearerToken(typeof header === 'string' ? header : undefined);
    if (token === null) throw new UnauthorizedException('A Bearer access token is required');
    if (!this.revocations.fresh) throw new ServiceUnavailableException('The revocation feed has not been read recently: access tokens cannot be checked');
    let payload: Parameters<typeof acceptedClaims>[0];
    try {
      ({ payload } = await jwtVerify(
        token,
        (protectedHeader: JWTHeaderParameters, jws) => {
          if (typeof protectedHeader.kid !== 'string') throw new Error('no kid');
          return this.keys(protectedHeader, jws);
        },
        { algorithms: ['EdDSA', 'ES256'], typ: ACCESS_TOKEN_TYPE },
      ));
    } catch {
      throw new UnauthorizedException('The access token is invalid or expired');
    }
    // The service's own claim rules: exp and iat present, no longer-lived than its tokens, ids in
    // the canonical lower-case form the feed names sessions in.
    const claims = acceptedClaims(payload, Math.floor(Date.now() / 1000), this.ttlSeconds);
    if (!claims) throw new UnauthorizedException('The access token is invalid or expired');
    if (this.revocations.isRevoked(claims.sessionId)) throw new UnauthorizedException('The session has ended');
    request.offlineSession = { userId: claims.userId, sessionId: claims.sessionId };
    return true;
  }
}
