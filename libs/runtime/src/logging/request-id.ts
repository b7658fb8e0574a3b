import { isRequestId } from '@app/sessions';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The request's id: the client's X-Request-Id when it is one (REQUEST_ID_PATTERN: 1 to 128
 * characters of A-Za-z0-9._:-), a new UUID otherwise (absent, sent twice, or anything else, which
 * is never echoed). It replaces the request's header, so whatever reads the header later (the
 * sessions library's ClientContext, into the audit entries) reads this id, and goes out on the
 * response before anything else can answer, errors and 404s included.
 */
export function assignRequestId(request: IncomingMessage, response: ServerResponse): string {
  const given = request.headers[REQUEST_ID_HEADER];
  const id = isRequestId(given) ? given : randomUUID();
  request.headers[REQUEST_ID_HEADER] = id;
  response.setHeader('X-Request-Id', id);
  return id;
}
