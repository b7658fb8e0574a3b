import type { FastifyInstance } from 'fastify';

/**
 * Paths whose answers may be stored: the public keys (their controller says for how long) and
 * the OpenAPI UI, its assets and document (the same for everyone, with the static server's own
 * validators). Everything else is per user or carries tokens.
 */
const CACHEABLE_PATHS = [/^\/\.well-known\/jwks\.json$/, /^\/docs(?:$|[/-])/];

/** Whether an answer to this request path may be stored by a browser or a shared cache. */
export function isCacheablePath(path: string): boolean {
  return CACHEABLE_PATHS.some((pattern) => pattern.test(path));
}

/**
 * `Cache-Control: no-store` and `Pragma: no-cache` on every answer but those of
 * isCacheablePath, errors and 404s included: token responses must not be stored (RFC 6749 §5.1),
 * and every other answer of these APIs is about the caller's own account or sessions, which a
 * shared browser or a proxy must not keep either. The files of an app's web page (isPagePath)
 * get `no-cache` instead: kept, but revalidated before each use, since their names carry no
 * content hash and a stale console.js must never outlive a deploy. Set in the first request hook, before the route
 * runs, so a route (the JWKS) can still set its own.
 */
export function preventCaching(app: FastifyInstance, isPagePath: (path: string) => boolean = () => false): void {
  app.addHook('onRequest', (request, reply, done) => {
    const path = request.url.split('?')[0];
    if (isPagePath(path)) reply.header('Cache-Control', 'no-cache');
    else if (!isCacheablePath(path)) forbidStoring(reply);
    done();
  });
}

/** The headers preventCaching sets, for an answer no request hook runs for. */
export function forbidStoring(reply: { header(name: string, value: string): unknown }): void {
  reply.header('Cache-Control', 'no-store');
  reply.header('Pragma', 'no-cache');
}
