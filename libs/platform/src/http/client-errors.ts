import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { problem, PROBLEM_CONTENT_TYPE, ProblemDetails } from './problem-details';

/** What Node itself answers for a request it cannot parse (lib/_http_server.js), with a detail. */
function problemFor(code: string | undefined): ProblemDetails {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return problem(431, 'The request headers are too large');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return problem(413, 'The chunk extensions of the request are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return problem(408, 'The request took too long to arrive');
    default:
      return problem(400, 'The request is not valid HTTP');
  }
}

/**
 * A request Node cannot parse (headers over its 16 kB limit, a malformed request line) never
 * reaches the framework: Node raises `clientError` on the server. This answers it with a problem,
 * as every other error is answered, unless a response has already begun on the connection. A
 * request whose body stops arriving has a response object but nothing written yet: it gets its
 * 408 too (Node's own handler makes the same distinction), then the connection is closed.
 * Give it to Fastify as its `clientErrorHandler`, which replaces Fastify's own JSON answer.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
  const responding = inFlight !== undefined && inFlight !== null && inFlight.headersSent;
  if (error.code === 'ECONNRESET' || !socket.writable || responding) {
    socket.destroy();
    return;
  }
  const answer = problemFor(error.code);
  const body = JSON.stringify(answer);
  socket.end(
    `HTTP/1.1 ${answer.status} ${answer.title}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
