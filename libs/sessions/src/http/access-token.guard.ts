import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { SessionAuthenticator } from '../application/authentication/session-authenticator';
import { AuthenticatedRequest } from './authenticated-request';
import { ACCESS_TOKEN_REFUSED, ACCESS_TOKEN_REQUIRED, bearerChallenge, unauthorized } from './bearer-challenge';
import { headerValue, HttpRequestLike, setResponseHeader } from './http-message';

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/;
/** The Bearer scheme (auth-scheme is case-insensitive, RFC 9110 §11.1), whatever follows it. */
const BEARER_SCHEME = /^bearer(\s|$)/i;

/** Extracts a well-formed Bearer token from an Authorization header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header || header.length > 4096) return null;
  return BEARER.exec(header)?.[1] ?? null;
}

/** The request's well-formed Bearer token, or null (Express and Fastify requests alike). */
export function bearerTokenOf(request: HttpRequestLike): string | null {
  return bearerToken(headerValue(request, 'authorization'));
}

/**
 * Refuses any request whose access token is not valid or whose session is no longer active.
 * Applied to every authenticated route of both apps, so a revocation holds everywhere. Works on
 * Express and Fastify hosts: it reads `request.headers` and sets `WWW-Authenticate` through
 * whichever response object the adapter hands out.
 *
 * The challenge follows RFC 6750 §3: a request without Bearer credentials gets
 * `Bearer realm="sessions"` (no error code), one whose Bearer token is malformed, badly signed,
 * expired or of an ended session gets `error="invalid_token"`, and the problem's `code` says the
 * same: the client refreshes, and signs in again only if the refresh is refused.
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(private readonly authenticator: SessionAuthenticator) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const header = headerValue(request, 'authorization');
    const token = bearerToken(header);
    const session = token ? await this.authenticator.authenticate(token) : null;
    if (!session) {
      const presented = header !== undefined && BEARER_SCHEME.test(header);
      const error = presented ? ({ code: 'invalid_token', description: ACCESS_TOKEN_REFUSED } as const) : undefined;
      setResponseHeader(http.getResponse<unknown>(), 'WWW-Authenticate', bearerChallenge(error));
      throw unauthorized(presented ? ACCESS_TOKEN_REFUSED : ACCESS_TOKEN_REQUIRED, error?.code);
    }
    request.authenticated = session;
    return true;
  }
}

/** Optional authentication: attaches the session when a valid token is sent, never refuses. */
@Injectable()
export class OptionalAccessTokenGuard implements CanActivate {
  constructor(private readonly authenticator: SessionAuthenticator) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerTokenOf(request);
    if (token) request.authenticated = (await this.authenticator.authenticate(token)) ?? undefined;
    return true;
  }
}
