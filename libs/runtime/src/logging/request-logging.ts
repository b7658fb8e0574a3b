import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Level, Logger as Pino } from 'pino';
import { routedOf } from '../http/routed-request';
import { requestIds } from './app-logger';
import { assignRequestId } from './request-id';

/** The message of every request line: one value to search for. */
export const REQUEST_LINE_MESSAGE = 'request_completed';

type LoggedRequest = IncomingMessage & { originalUrl?: string };

/** A query parameter whose name says secret has its value replaced: a client may put a token in the URL. */
const SECRET_PARAMETER = /token|password|secret|auth|key|code|signature|sig$|cookie/i;

/**
 * 5xx error; 4xx warn, except 401 and 404, info: an expired access token (401, then a refresh) and
 * a probe for a path that does not exist are routine and numerous, and a warn an operator learns
 * to ignore hides the ones that matter (403, 409, 429, a 400 from a broken client). Everything else info.
 *
 * The health probes (`/health`, `/health/live`, `/health/ready`) are asked every few seconds by
 * every orchestrator and load balancer: debug while they pass, warn when they fail (a 503 during
 * shutdown is expected; an outage shows on the other routes' 5xx and in the probe's own answer).
 */
export function requestLogLevel(status: number, path = ''): Level {
  if (path === '/health' || path.startsWith('/health/') || path.startsWith('/health?')) return status >= 400 ? 'warn' : 'debug';
  if (status >= 500) return 'error';
  if (status === 401 || status === 404) return 'info';
  if (status >= 400) return 'warn';
  return 'info';
}

/** The URL as logged: the path, and the query with the values of secret-looking parameters replaced. */
export function loggedUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark === -1) return url;
  const query = new URLSearchParams(url.slice(mark + 1));
  let redacted = false;
  for (const name of new Set(query.keys())) {
    if (!SECRET_PARAMETER.test(name)) continue;
    query.set(name, '[Redacted]');
    redacted = true;
  }
  return redacted ? `${url.slice(0, mark)}?${query.toString()}` : url;
}

/** The fields of a request line beyond level, time, msg and requestId (which the request's child logger carries). */
function requestFields(request: LoggedRequest, response: ServerResponse): Record<string, unknown> {
  const routed = routedOf(request);
  const caller = routed?.request.authenticated;
  return {
    context: 'HTTP',
    method: request.method,
    ...(routed?.route ? { route: routed.route } : {}),
    url: loggedUrl(request.originalUrl ?? request.url ?? ''),
    status: response.statusCode,
    ...(caller ? { userId: caller.userId, sessionId: caller.sessionId } : {}),
    // The client went away before the answer was sent.
    ...(response.writableFinished ? {} : { aborted: true }),
  };
}

/**
 * The request middleware, run first (before the body checks and anything else that may refuse a
 * request): gives the request its id (see assignRequestId), runs the rest of the request with that
 * id at hand (for nestjs-pino's Logger, see requestIds), and writes one line when the connection
 * is done with the response (finished, or closed by the client first: `aborted`). The line names
 * no header, cookie or body. Written by hand rather than with pino-http, whose child logger per
 * request and serializers cost more than the rest of a cached GET /auth/me
 * (docs/performance.md); the line has the fields pino-http was set to write.
 */
export function requestLogging(lines: Pino): (request: IncomingMessage, response: ServerResponse, next: () => void) => void {
  return (request, response, next) => {
    const requestId = assignRequestId(request, response);
    const started = performance.now();
    response.once('close', () => {
      const ms = Math.round(performance.now() - started);
      lines[requestLogLevel(response.statusCode, (request as LoggedRequest).originalUrl ?? request.url)](
        { requestId, ...requestFields(request as LoggedRequest, response), ms },
        REQUEST_LINE_MESSAGE,
      );
    });
    requestIds.run(requestId, next);
  };
}
