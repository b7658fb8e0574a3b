import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { Request } from 'express';
import { AuthenticatedSession } from '../application/authentication/session-authenticator';
import { RequestContext, requestContext } from '../domain/request-context';
import { clientIp } from './client-ip';

/** What AccessTokenGuard leaves on the request. */
export interface AuthenticatedRequest extends Request {
  authenticated?: AuthenticatedSession;
}

/** The caller's user and session, set by AccessTokenGuard. */
export const CurrentSession = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthenticatedSession => {
  const session = ctx.switchToHttp().getRequest<AuthenticatedRequest>().authenticated;
  if (!session) throw new Error('CurrentSession used on a route without AccessTokenGuard');
  return session;
});

/** The caller's IP (see clientIp: the rate limit counts the same one) and User-Agent, for this request only. */
export const ClientContext = createParamDecorator((_data: unknown, ctx: ExecutionContext): RequestContext => {
  const request = ctx.switchToHttp().getRequest<Request>();
  return requestContext(clientIp(request), request.get('user-agent'));
});
