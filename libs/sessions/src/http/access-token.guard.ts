import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Response } from 'express';
import { SessionAuthenticator } from '../application/authentication/session-authenticator';
import { AuthenticatedRequest } from './authenticated-request';

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/;

/** Extracts a well-formed Bearer token from an Authorization header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header || header.length > 4096) return null;
  return BEARER.exec(header)?.[1] ?? null;
}

/**
 * Refuses any request whose access token is not valid or whose session is no longer active.
 * Applied to every authenticated route of both apps, so a revocation holds everywhere.
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(private readonly authenticator: SessionAuthenticator) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const token = bearerToken(request.get('authorization'));
    const session = token ? await this.authenticator.authenticate(token) : null;
    if (!session) {
      http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer');
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
    const token = bearerToken(request.get('authorization'));
    if (token) request.authenticated = (await this.authenticator.authenticate(token)) ?? undefined;
    return true;
  }
}
