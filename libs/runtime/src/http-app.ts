import { answerClientErrorsWithProblems, createValidationPipe, ProblemDetailsFilter, requireJsonBodies } from '@app/platform';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Server } from 'node:http';
import { preventCaching } from './http/cache-control';
import { sendSecurityHeaders } from './http/security-headers';
import { DEFAULT_HTTP_TIMEOUTS, RuntimeSettings } from './runtime-settings';

export interface HttpAppDescription {
  readonly title: string;
  readonly description: string;
}

/**
 * What both apps do the same way at the HTTP edge: problem+json errors (unparseable requests
 * included), strict validation, JSON-only bodies with a size limit, the trust-proxy rule for
 * client IPs, and OpenAPI at /docs and /docs-json.
 */
export function configureHttpApp(app: NestExpressApplication, settings: RuntimeSettings, description: HttpAppDescription): void {
  app.disable('x-powered-by');
  preventCaching(app);
  sendSecurityHeaders(app, settings.http.hstsMaxAgeSeconds);
  app.set('trust proxy', settings.http.trustProxy);
  boundRequestReadTime(app.getHttpServer(), settings);
  answerClientErrorsWithProblems(app.getHttpServer());
  app.use(requireJsonBodies);
  app.useBodyParser('json', { limit: settings.http.bodyLimit, strict: true });
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalPipes(createValidationPipe());

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle(description.title).setDescription(description.description).setVersion('1').addBearerAuth().build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}

/**
 * A client that sends its headers or body slowly (slowloris) holds a connection at most this long:
 * Node then answers 408 (a problem, see answerClientErrorsWithProblems) and closes it. Node checks
 * its connections every `connectionsCheckingInterval` (30 s by default, read when the server
 * starts listening), so the check runs often enough for the bound to hold within a second or a
 * quarter of the shorter timeout.
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
