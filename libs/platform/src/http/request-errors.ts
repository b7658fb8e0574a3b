import { HttpException } from '@nestjs/common';
import { problem, ProblemDetails } from './problem-details';

/**
 * Errors raised by Express and body-parser while reading a request. Nest's Express adapter wraps
 * them in an HttpException whose message is the parser's own (for JSON, V8's SyntaxError text,
 * which quotes the body), so they are recognised by their `cause` and answered with fixed text.
 */

/** The fields body-parser and http-errors put on an error; all optional since anything may arrive. */
interface HttpErrorLike {
  readonly type?: unknown;
  readonly status?: unknown;
  readonly statusCode?: unknown;
  readonly expose?: unknown;
  readonly limit?: unknown;
  readonly message?: unknown;
}

/** body-parser's error types, with what the client is told. Types that mean a server bug are left out. */
const BODY_PARSER_PROBLEMS: Readonly<Record<string, (error: HttpErrorLike) => ProblemDetails>> = {
  'entity.parse.failed': () => problem(400, 'Malformed JSON body'),
  'entity.too.large': (error) =>
    problem(413, typeof error.limit === 'number' ? `Request body is larger than ${error.limit} bytes` : 'Request body is too large'),
  'encoding.unsupported': () => problem(415, 'Unsupported Content-Encoding'),
  'charset.unsupported': () => problem(415, 'Unsupported charset in Content-Type'),
  'request.aborted': () => problem(400, 'Request body was aborted by the client'),
  'request.size.invalid': () => problem(400, 'Request body size did not match Content-Length'),
  'parameters.too.many': () => problem(413, 'Too many parameters in the request body'),
  'entity.verify.failed': () => problem(403, 'Request body was refused'),
};

/** The problem to answer for an error raised while reading the request; undefined when it is not one. */
export function requestProblem(exception: unknown): ProblemDetails | undefined {
  const candidates = exception instanceof HttpException ? [exception.cause, exception] : [exception];
  for (const candidate of candidates) {
    const found = problemFor(candidate);
    if (found) return found;
  }
  return undefined;
}

function problemFor(error: unknown): ProblemDetails | undefined {
  if (error === null || typeof error !== 'object' || error instanceof HttpException) return undefined;
  const fields = error as HttpErrorLike;
  if (typeof fields.type === 'string' && fields.type in BODY_PARSER_PROBLEMS) return BODY_PARSER_PROBLEMS[fields.type](fields);
  const status = clientErrorStatus(fields);
  if (status === undefined) return undefined;
  // Express sets 400 on a URIError from decoding a malformed %-escape in a path parameter.
  if (error instanceof URIError) return problem(400, 'Malformed percent-encoding in the URL');
  // http-errors marks a message safe to show with expose: true; anything else gets the status text.
  return fields.expose === true && typeof fields.message === 'string' && fields.message !== ''
    ? problem(status, fields.message)
    : undefined;
}

function clientErrorStatus(fields: HttpErrorLike): number | undefined {
  const status = typeof fields.status === 'number' ? fields.status : fields.statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500 ? status : undefined;
}
