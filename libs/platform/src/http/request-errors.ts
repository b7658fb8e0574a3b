import { HttpException } from '@nestjs/common';
import { problem, PROBLEM_CONTENT_TYPE, ProblemDetails } from './problem-details';
import { JSON_BODIES_ONLY } from './json-bodies';

/**
 * Errors Fastify raises while reading a request, before any route runs: recognised by their
 * `code` and answered with fixed text. Their own messages may quote the request (a bad URL
 * component is echoed back), so none is passed on.
 */
const FASTIFY_PROBLEMS: Readonly<Record<string, (error: FastifyErrorLike, limits: RequestLimits) => ProblemDetails>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () => problem(400, 'Malformed JSON body'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => problem(400, 'Malformed JSON body'),
  FST_ERR_CTP_BODY_TOO_LARGE: (_error, limits) =>
    problem(413, limits.bodyLimitBytes === undefined ? 'Request body is too large' : `Request body is larger than ${limits.bodyLimitBytes} bytes`),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => problem(415, JSON_BODIES_ONLY),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => problem(400, 'Request body size did not match Content-Length'),
  FST_ERR_BAD_URL: () => problem(400, 'Malformed percent-encoding in the URL'),
  FST_ERR_INVALID_URL: () => problem(400, 'The request URL is not valid'),
  FST_ERR_MAX_PARAM_LENGTH: () => problem(414, 'A segment of the request path is too long'),
};

/** The limits a request was read under, for the detail of the problem that refuses it. */
export interface RequestLimits {
  readonly bodyLimitBytes?: number;
}

/** The fields Fastify puts on its errors (@fastify/error); all optional since anything may arrive. */
interface FastifyErrorLike {
  readonly code?: unknown;
  readonly statusCode?: unknown;
}

/**
 * The problem to answer for an error raised while reading the request; undefined when it is not
 * one. Nest's Fastify adapter hands a Fastify 4xx error to the filters wrapped in an
 * HttpException with Fastify's message, so the error is looked for as the `cause` too.
 */
export function requestProblem(exception: unknown, limits: RequestLimits = {}): ProblemDetails | undefined {
  const candidates = exception instanceof HttpException ? [exception.cause, exception] : [exception];
  for (const candidate of candidates) {
    const found = problemFor(candidate, limits);
    if (found) return found;
  }
  return undefined;
}

function problemFor(exception: unknown, limits: RequestLimits): ProblemDetails | undefined {
  if (exception === null || typeof exception !== 'object') return undefined;
  const { code, statusCode } = exception as FastifyErrorLike;
  if (typeof code !== 'string' || !(code in FASTIFY_PROBLEMS)) return undefined;
  // Fastify's own status for the error: a 5xx with a known code would be a server bug, not the client's.
  if (typeof statusCode === 'number' && (statusCode < 400 || statusCode >= 500)) return undefined;
  return FASTIFY_PROBLEMS[code](exception, limits);
}

/** What answerRouterError needs of Fastify's request and reply. */
interface RouterErrorReply {
  code(status: number): RouterErrorReply;
  header(name: string, value: string): RouterErrorReply;
  send(payload: string): unknown;
}

/**
 * Fastify's `frameworkErrors`: the router refuses a malformed %-escape (400) or an over-long path
 * segment (414) before any hook or Nest filter runs, and would answer with its own JSON, quoting
 * the path. This answers them with a problem like every other error. `beforeSend` sets the
 * headers the app's request hooks would have set.
 */
export function answerRouterError(
  error: unknown,
  request: { readonly url: string },
  reply: RouterErrorReply,
  limits: RequestLimits = {},
  beforeSend?: () => void,
): void {
  const body = requestProblem(error, limits) ?? problem(400, 'The request URL is not valid');
  beforeSend?.();
  reply
    .code(body.status)
    .header('Content-Type', `${PROBLEM_CONTENT_TYPE}; charset=utf-8`)
    .send(JSON.stringify({ ...body, instance: request.url.split('?')[0] }));
}
