import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { AuthenticatedSession } from '../application/authentication/session-authenticator';
import { RequestContext, requestContext } from '../domain/request-context';
import { clientIp } from './client-ip';
import { headerValue, HttpRequestLike } from './http-message';

/** What AccessTokenGuard leaves on the request (an Express request or a Fastify one alike). */
export interface AuthenticatedRequest extends HttpRequestLike {
  authenticated?: AuthenticatedSession;
}

/** The caller's user and session, set by AccessTokenGuard. */
export const CurrentSession = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthenticatedSession => {
  const session = ctx.switchToHttp().getRequest<AuthenticatedRequest>().authenticated;
  if (!session) throw new Error('CurrentSession used on a route without AccessTokenGuard');
  return session;
});

/**
 * The caller's IP (see clientIp: the rate limit counts the same one), User-Agent and request id
 * (the X-Request-Id header, as the host's edge left it; one that is not a valid id is recorded as
 * none), for this request only.
 */
export const ClientContext = createParamDecorator((_data: unknown, ctx: ExecutionContext): RequestContext => {
  const request = ctx.switchToHttp().getRequest<HttpRequestLike>();
  return requestContext(clientIp(request), headerValue(request, 'user-agent'), headerValue(request, 'x-request-id'));
});
