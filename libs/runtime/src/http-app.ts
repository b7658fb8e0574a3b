import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { acceptJsonBodiesOnly, answerClientError, answerRouterError, createValidationPipe, ProblemDetailsFilter } from '@app/platform';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import bytes from 'bytes';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type ApiDocsDescription, serveApiDocs } from './http/api-docs';
import { allowCrossOrigin } from './http/cors';
import { forbidStoring, preventCaching } from './http/cache-control';
import { requestLogging } from './logging/request-logging';
import { sendSecurityHeaders } from './http/security-headers';
import type { WebPage } from './http/web-page';
import type { Runtime } from './runtime';
import { DEFAULT_HTTP_TIMEOUTS, RuntimeSettings } from './runtime-settings';

/** What an app says about itself in its OpenAPI document, and who may call it from a browser. */
export interface HttpAppDescription extends ApiDocsDescription {
  /** The origins whose pages may call the app from a browser (none: CORS off). */
  readonly corsOrigins?: readonly string[];
  /** A web page the app serves beside its API (the admin console's); none when absent. */
  readonly page?: WebPage;
  /** POST routes (templates) whose body is a form, not JSON: the OAuth endpoints (see acceptJsonBodiesOnly). */
  readonly formRoutes?: readonly string[];
  /** Fastify plugins of this app alone (the admin console's cookies), registered before its routes. */
  readonly plugins?: (app: NestFastifyApplication) => Promise<void>;
}

/**
 * Creates one of the two apps on Fastify and sets up what both do the same way at the HTTP edge:
 * a request id and a log line per request, problem+json errors (unparseable requests included), strict validation, JSON-only bodies with
 * a size limit, the trust-proxy rule for client IPs, CORS, security and caching headers, and
 * OpenAPI at /docs and /docs-json unless API_DOCS is off, and the app's web page if it has one. The app is initialised and ready to serve, not yet listening.
 */
export async function createHttpApp(module: DynamicModule, runtime: Runtime, description: HttpAppDescription): Promise<NestFastifyApplication> {
  const { settings } = runtime;
  const bodyLimitBytes = bytes.parse(settings.http.bodyLimit) ?? undefined;
  // eslint-disable-next-line prefer-const -- set once the app exists; the adapter's error handler, made before it, reads it
  let edgeHeaders: ((request: IncomingMessage, response: ServerResponse, next: () => void) => void) | undefined;
  const adapter = new FastifyAdapter({
    // Nest's logger (the runtime's) writes the app's lines; Fastify's own would double them.
    logger: false,
    bodyLimit: bodyLimitBytes,
    trustProxy: trustProxyRule(settings.http.trustProxy),
    clientErrorHandler: answerClientError,
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) =>
      answerRouterError(error, request, reply, { bodyLimitBytes }, () => {
        forbidStoring(reply);
        edgeHeaders?.(request.raw, reply.raw, () => undefined);
      }),
    // Express answered `/auth/me/` as `/auth/me`; clients written against it keep working.
    routerOptions: { ignoreTrailingSlash: true },
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    bodyParser: false,
    logger: settings.logger,
    // A start-up error (a bad option, a missing dependency) rejects here, for the caller to report, instead of exiting the process.
    abortOnError: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  // Request hooks run in this order. First, every request gets its id and its log line, whatever
  // answers it (a 404, a refused body); then the headers, so that a refused body carries them too.
  const logRequest = requestLogging(settings.logger.requests);
  fastify.addHook('onRequest', (request, reply, done) => logRequest(request.raw, reply.raw, done));
  const isPagePath = (path: string) => description.page?.isPagePath(path) ?? false;
  preventCaching(fastify, isPagePath);
  edgeHeaders = sendSecurityHeaders(fastify, settings.http.hstsMaxAgeSeconds, isPagePath);
  acceptJsonBodiesOnly(fastify, bodyLimitBytes ?? 16 * 1024, description.formRoutes);
  boundRequestReadTime(app.getHttpServer(), settings);
  app.useGlobalFilters(new ProblemDetailsFilter(app.getHttpAdapter(), { bodyLimitBytes }));
  app.useGlobalPipes(createValidationPipe());
  allowCrossOrigin(app, description.corsOrigins);

  await description.plugins?.(app);
  serveApiDocs(app, settings, description);
  await description.page?.serve(app);
  await app.init();
  await fastify.ready();
  return app;
}

/**
 * TRUST_PROXY as Fastify takes it. A number of hops means what it meant on Express (proxy-addr):
 * the nearest N addresses of the chain, the socket's peer first, are proxies, and the client is
 * the next one. Fastify itself reads a bare number as "trust no one", so it is given as that rule.
 */
function trustProxyRule(trustProxy: RuntimeSettings['http']['trustProxy']): boolean | string | ((address: string, hop: number) => boolean) {
  return typeof trustProxy === 'number' ? (_address, hop) => hop < trustProxy : trustProxy;
}

/**
 * A client that sends its headers or body slowly (slowloris) holds a connection at most this long:
 * Node then answers 408 (a problem, see answerClientError) and closes it. Node checks its
 * connections every `connectionsCheckingInterval` (30 s by default, read when the server starts
 * listening), so the check runs often enough for the bound to hold within a second or a quarter
 * of the shorter timeout. Set on the Node server, after Fastify has set its own (none by default).
 */
function boundRequestReadTime(server: Server, settings: RuntimeSettings): void {
  const headersTimeoutMs = settings.http.headersTimeoutMs ?? DEFAULT_HTTP_TIMEOUTS.headersTimeoutMs;
  const requestTimeoutMs = settings.http.requestTimeoutMs ?? DEFAULT_HTTP_TIMEOUTS.requestTimeoutMs;
  server.headersTimeout = Math.min(headersTimeoutMs, requestTimeoutMs);
  server.requestTimeout = requestTimeoutMs;
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(
    25,
    Math.min(1_000, Math.floor(server.headersTimeout / 4)),
  );
}
