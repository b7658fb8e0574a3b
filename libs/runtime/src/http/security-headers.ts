import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The OpenAPI UI (`/docs` and its assets), the only HTML these apps serve. `/docs-json` is JSON like the API. */
export function isDocsUiPath(path: string): boolean {
  return path === '/docs' || path.startsWith('/docs/');
}

/**
 * The API answers JSON only: nothing in one may load, run, embed or be embedded. A browser that
 * is tricked into rendering an answer as a page runs nothing of it.
 */
export const API_CONTENT_SECURITY_POLICY = {
  'default-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
} as const;

/**
 * What Swagger UI at /docs needs, and no more: its scripts and styles from this origin (no inline
 * or evaluated script: the page has none and the bundle needs none), the inline `<style>` blocks
 * and `style` attributes of its page (styles only), its data: icons, and fetches of this
 * origin for "Try it out". Never framed either.
 */
export const DOCS_CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
} as const;

/**
 * The admin console's page (index.html, console.js, console.css): its one script and one
 * stylesheet from this origin, no inline or evaluated script and no inline style (the markup has
 * no `style` attribute; Preact sets styles through the CSSOM, which CSP does not govern), images
 * from this origin or data:, fetches of this origin only (the REST API under /admin), forms
 * posted nowhere else, no <base>, never framed.
 */
export const PAGE_CONTENT_SECURITY_POLICY = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
} as const;

type Middleware = (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void;

function policy(directives: Record<string, readonly string[]>, hstsMaxAgeSeconds: number): Middleware {
  const options: HelmetOptions = {
    contentSecurityPolicy: { useDefaults: false, directives: Object.fromEntries(Object.entries(directives).map(([name, values]) => [name, [...values]])) },
    // Off unless asked for: the apps listen on plain HTTP behind whatever terminates TLS, and the
    // header binds every port of the host name (see docs/http.md).
    strictTransportSecurity: hstsMaxAgeSeconds > 0 ? { maxAge: hstsMaxAgeSeconds, includeSubDomains: false } : false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  };
  return helmet(options);
}

/**
 * Security headers on every answer (helmet): a Content-Security-Policy (API_CONTENT_SECURITY_POLICY,
 * DOCS_CONTENT_SECURITY_POLICY for the OpenAPI UI, PAGE_CONTENT_SECURITY_POLICY for the files of
 * the app's web page if it has one), `X-Frame-Options: DENY` with
 * `frame-ancestors 'none'`, `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
 * the cross-origin isolation headers, and `Strict-Transport-Security` only when
 * HSTS_MAX_AGE_SECONDS is set. Helmet sets them on the Node response, which Fastify merges into
 * every answer it sends, 404s and errors included. It runs in a Fastify request hook rather than
 * as middleware: the hook costs nothing per request beyond helmet's own header writes.
 */
export function sendSecurityHeaders(app: FastifyInstance, hstsMaxAgeSeconds = 0, isPagePath: (path: string) => boolean = () => false): Middleware {
  const api = policy(API_CONTENT_SECURITY_POLICY, hstsMaxAgeSeconds);
  const docs = policy(DOCS_CONTENT_SECURITY_POLICY, hstsMaxAgeSeconds);
  const page = policy(PAGE_CONTENT_SECURITY_POLICY, hstsMaxAgeSeconds);
  const headers: Middleware = (request, response, next) => {
    const path = (request.url ?? '').split('?')[0];
    return (isDocsUiPath(path) ? docs : isPagePath(path) ? page : api)(request, response, next);
  };
  app.addHook('onRequest', (request, reply, done) => headers(request.raw, reply.raw, (error) => done(error as Error | undefined)));
  // For the answers no hook runs for (see answerRouterError).
  return headers;
}
