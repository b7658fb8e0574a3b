import type { AuthenticatedRequest } from '@app/sessions';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';

/** What RoutedRequestGuard learns of a request that reached a route. */
export interface Routed {
  /** The matched route's template (`/admin/users/:userId/sessions`). */
  readonly route?: string;
  /** The adapter's request object (Express's is Node's own, Fastify's wraps it): AccessTokenGuard puts the caller on it. */
  readonly request: AuthenticatedRequest;
}

const ROUTED = Symbol('routed');
type NodeRequest = IncomingMessage & { [ROUTED]?: Routed };

/** The matched route's template, from Express's request or Fastify's. */
export function routeTemplateOf(request: { route?: { path?: unknown }; routeOptions?: { url?: unknown } }): string | undefined {
  const route = request.route?.path ?? request.routeOptions?.url;
  return typeof route === 'string' && route !== '' ? route : undefined;
}

/** The Node request under the framework's: Fastify keeps it as `raw`, Express's request is it. */
function nodeRequestOf(request: IncomingMessage | { raw?: IncomingMessage }): NodeRequest {
  return ((request as { raw?: IncomingMessage }).raw ?? request) as NodeRequest;
}

/**
 * What RoutedRequestGuard recorded on this request (the Node one, or the adapter's around it);
 * undefined for a request that reached no route (a 404, a body refused before routing).
 */
export function routedOf(request: IncomingMessage | { raw?: IncomingMessage }): Routed | undefined {
  return nodeRequestOf(request)[ROUTED];
}

/**
 * Records the matched route's template and the adapter's request on the Node request, where what
 * is written when the answer is done (the request line, the duration metric) finds them. A global
 * guard, and the first, because global guards run first: a request that a later guard refuses
 * (401, 403, 429) has its route too, and its caller once AccessTokenGuard has put it there. It
 * never refuses anything. One guard for every reader, since it runs on every request.
 */
@Injectable()
export class RoutedRequestGuard implements CanActivate {
  canActivate(context: ExecutionContext): true {
    if (context.getType() !== 'http') return true;
    const request = context
      .switchToHttp()
      .getRequest<AuthenticatedRequest & { raw?: IncomingMessage; route?: { path?: unknown }; routeOptions?: { url?: unknown } }>();
    nodeRequestOf(request)[ROUTED] = { route: routeTemplateOf(request), request };
    return true;
  }
}
