import type { INestApplication } from '@nestjs/common';

/** What the browser may send cross-origin: the methods the routes take, and the headers they read. */
export const CORS_ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'DELETE'] as const;
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'X-Request-Id'] as const;
/** What a page's script may read of an answer besides the CORS-safelisted headers: the challenge, the back-off and the request id. */
export const CORS_EXPOSED_HEADERS = ['WWW-Authenticate', 'Retry-After', 'X-Request-Id'] as const;
/** How long a browser may reuse a preflight answer (Chromium caps it at 2 hours anyway). */
export const CORS_MAX_AGE_SECONDS = 600;

/**
 * Lets pages of the listed origins call the app from a browser (CORS). No origin listed: CORS
 * stays off and an answer carries no CORS header at all, so browsers keep the same-origin rule.
 * The origins are exact (`scheme://host[:port]`, checked at start-up by the environment rules);
 * a preflight from any other origin is answered without `Access-Control-Allow-Origin`, which the
 * browser takes as a refusal. No credentials mode: the APIs use Bearer tokens, never cookies.
 * Nest's enableCors works on both HTTP adapters (the `cors` package on Express, @fastify/cors on
 * Fastify); call it before `app.init()` so the preflight is answered before the router's 404.
 */
export function allowCrossOrigin(app: INestApplication, origins: readonly string[] | undefined): void {
  if (!origins || origins.length === 0) return;
  app.enableCors({
    origin: [...origins],
    methods: [...CORS_ALLOWED_METHODS],
    allowedHeaders: [...CORS_ALLOWED_HEADERS],
    exposedHeaders: [...CORS_EXPOSED_HEADERS],
    maxAge: CORS_MAX_AGE_SECONDS,
    credentials: false,
    preflightContinue: false,
    optionsSuccessStatus: 204,
  });
}
