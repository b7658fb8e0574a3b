import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpServer, Logger } from '@nestjs/common';
import { isDependencyUnavailable } from './dependency-errors';
import { invalidRequest, isProblemDetails, problem, PROBLEM_CONTENT_TYPE, ProblemDetails, statusTitle } from './problem-details';
import { RequestLimits, requestProblem } from './request-errors';

/** How long a client should wait before retrying after a dependency outage. */
export const RETRY_AFTER_SECONDS = 5;

interface ProblemResponse {
  readonly body: ProblemDetails;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What the filter reads of a request, on either HTTP adapter. */
interface RequestLike {
  readonly method?: string;
  readonly url?: string;
  readonly originalUrl?: string;
}

/** The Node response under an adapter's (Fastify's `reply.raw`), or the response itself (Express). */
interface ResponseLike {
  readonly raw?: { destroy(): void };
  destroy?(): void;
}

/**
 * Answers every error with an RFC 9457 `application/problem+json` body. Register it globally
 * (`app.useGlobalFilters(new ProblemDetailsFilter(app.getHttpAdapter(), limits))`) so it also
 * sees the body parser's and the router's errors. It answers through the app's HTTP adapter, so
 * it serves Fastify and Express alike. Unexpected errors are logged with their stack and answered
 * with a generic 500: their messages (SQL, file paths, tokens) never reach the client.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetailsFilter');

  constructor(
    private readonly adapter: HttpServer,
    private readonly limits: RequestLimits = {},
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    // Only HTTP is served here; other transports keep their own error handling.
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const request = http.getRequest<RequestLike>();
    const response = http.getResponse<ResponseLike>();

    if (this.adapter.isHeadersSent(response)) {
      // Part of a response is already on the wire: all we can do is cut it short, since
      // ending it normally would pass a truncated body off as complete.
      this.logger.error(`${describe(request)}: error after the response started: ${messageOf(exception)}`, stackOf(exception));
      (response.raw ?? response).destroy?.();
      return;
    }
    const { body, headers } = this.toProblem(exception, request);
    const instance = body.instance ?? pathOf(request);
    for (const [name, value] of Object.entries(headers ?? {})) this.adapter.setHeader(response, name, value);
    // Set explicitly: a handler may already have set another Content-Type before throwing.
    this.adapter.setHeader(response, 'Content-Type', PROBLEM_CONTENT_TYPE);
    this.adapter.reply(response, { ...body, instance }, body.status);
  }

  private toProblem(exception: unknown, request: RequestLike): ProblemResponse {
    const fromRequest = requestProblem(exception, this.limits);
    if (fromRequest) return { body: fromRequest };
    if (exception instanceof HttpException) return { body: this.fromHttpException(exception, request) };
    const input = invalidCommandInput(exception);
    if (input)
      return { body: invalidRequest('A field of the request is invalid', [{ field: input.field, messages: [`${input.field} ${input.problem}`] }]).problem };
    if (isDependencyUnavailable(exception)) {
      this.logger.warn(`${describe(request)}: dependency unavailable: ${messageOf(exception)}`);
      return {
        body: problem(503, 'A service this request depends on is unavailable; try again shortly'),
        headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      };
    }
    this.logger.error(`${describe(request)}: ${messageOf(exception)}`, stackOf(exception));
    return { body: problem(500, 'An unexpected error occurred') };
  }

  private fromHttpException(exception: HttpException, request: RequestLike): ProblemDetails {
    const status = exception.getStatus();
    // A deliberate 503 (a failing health check, say) is expected in an outage; other 5xx are bugs.
    if (status === 503) this.logger.warn(`${describe(request)}: ${exception.message}`);
    else if (status >= 500) this.logger.error(`${describe(request)}: ${exception.message}`, stackOf(exception));
    const response = exception.getResponse();
    // Thrown as a problem already (ProblemException, or a compatible body): keep its fields.
    if (isProblemDetails(response)) return { ...response, status };
    return problem(status, detailOf(response, status), { ...extensionsOf(response), ...errorCodeOf(exception) });
  }
}

/**
 * Nest's exceptions carry `{ message, error, statusCode }`, where message may be a string, a
 * list (its old validation format) or anything else a caller passed.
 */
function detailOf(response: string | object, status: number): string {
  if (typeof response === 'string') return response;
  const message: unknown = (response as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message) && message.every((item) => typeof item === 'string')) return message.join('; ');
  return statusTitle(status);
}

const PROBLEM_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'instance']);

/**
 * Members of a custom exception body other than Nest's envelope (`message`, `statusCode`, and
 * `error` as a status text), kept as extensions: e.g. the `info`/`error`/`details` of a
 * @nestjs/terminus health check failure.
 */
function extensionsOf(response: string | object): Record<string, unknown> {
  if (typeof response === 'string') return {};
  const isEnvelope = (key: string, value: unknown) => key === 'message' || key === 'statusCode' || (key === 'error' && typeof value === 'string');
  return Object.fromEntries(Object.entries(response).filter(([key, value]) => !PROBLEM_MEMBERS.has(key) && !isEnvelope(key, value)));
}

/** Nest 12's `errorCode` option, passed on as a `code` extension when set. */
function errorCodeOf(exception: HttpException): { code?: string | number } {
  const code: unknown = (exception as { errorCode?: unknown }).errorCode;
  return typeof code === 'string' || typeof code === 'number' ? { code } : {};
}

/** The path without its query string, which may carry tokens. */
function pathOf(request: RequestLike): string {
  return (request.originalUrl ?? request.url ?? '').split('?')[0];
}

function describe(request: RequestLike): string {
  return `${request.method} ${pathOf(request)}`;
}

function messageOf(exception: unknown): string {
  return exception instanceof Error ? `${exception.name}: ${exception.message}` : `non-Error thrown: ${String(exception)}`;
}

function stackOf(exception: unknown): string | undefined {
  return exception instanceof Error ? exception.stack : undefined;
}

/**
 * The sessions library's InvalidCommandInput (code `invalid_input`): a command refused a field
 * the HTTP layer let through. Its problem text never quotes the value, so it can be shown.
 * Recognised by shape, so this layer needs no import of the library.
 */
function invalidCommandInput(exception: unknown): { field: string; problem: string } | undefined {
  if (!(exception instanceof Error)) return undefined;
  const { code, field, problem: text } = exception as Error & { code?: unknown; field?: unknown; problem?: unknown };
  return code === 'invalid_input' && typeof field === 'string' && typeof text === 'string' ? { field, problem: text } : undefined;
}
