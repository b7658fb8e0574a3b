import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { SessionAuthenticator } from '../application/authentication/session-authenticator';
import { AuthenticatedRequest } from './authenticated-request';
import { headerValue, HttpRequestLike, setResponseHeader } from './http-message';

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/;

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
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(private readonly authenticator: SessionAuthenticator) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const token = bearerTokenOf(request);
    const session = token ? await this.authenticator.authenticate(token) : null;
    if (!session) {
      setResponseHeader(http.getResponse<unknown>(), 'WWW-Authenticate', 'Bearer');
      throw new UnauthorizedException(token ? 'The access token is invalid or expired, or its session has ended' : 'A Bearer access token is required');
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
