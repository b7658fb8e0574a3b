/**
 * Recognises errors that mean the database or another dependency cannot be reached right now, so
 * the client gets a 503 it may retry rather than a 500. Driver errors arrive wrapped: TypeORM's
 * QueryFailedError keeps the pg error in `driverError`, others use `cause`, and Node's
 * happy-eyeballs connect reports an AggregateError of one error per address.
 */

/** Socket-level failures (Node) and DNS failures to reach a dependency's host. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception, e.g. 08000, 08001, 08003, 08006), server
 * shutting down or starting (57P01-57P03), too many connections (53300), and a statement
 * cancelled by statement_timeout (57014).
 */
const POSTGRES_CODES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);
const isPostgresConnectionClass = (code: string) => /^08[0-9A-Z]{3}$/.test(code);

/** pg, pg-pool and node-redis report these without a code. */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/, // pg: "Connection terminated", "... unexpectedly", "... due to connection timeout"
  /timeout exceeded when trying to connect/, // pg-pool's connectionTimeoutMillis
  /^Query read timeout$/, // pg's client-side query_timeout
  /is not queryable/, // pg: "Client has encountered a connection error and is not queryable"
  /^Cannot use a pool after calling end on the pool$/, // a request racing the shutdown
  /^Socket closed unexpectedly$/, // node-redis
  /^The client is closed$/, // node-redis
];

/** node-redis error classes, and by convention any `*UnavailableError` (e.g. SessionCacheUnavailableError). */
const UNAVAILABLE_NAMES = /^(ConnectionTimeoutError|SocketClosedUnexpectedlyError|ClientClosedError|\w*UnavailableError)$/;

const MAX_DEPTH = 5;

export function isDependencyUnavailable(error: unknown): boolean {
  return someErrorInChain(error, 0, (candidate) => {
    const { code, message, name } = candidate as { code?: unknown; message?: unknown; name?: unknown };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || POSTGRES_CODES.has(code) || isPostgresConnectionClass(code))) {
      return true;
    }
    if (typeof name === 'string' && UNAVAILABLE_NAMES.test(name)) return true;
    return typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message));
  });
}

/** Visits the error, its `driverError`, its `cause` and an AggregateError's `errors`, depth-bounded against cycles. */
function someErrorInChain(error: unknown, depth: number, test: (candidate: object) => boolean): boolean {
  if (error === null || typeof error !== 'object' || depth > MAX_DEPTH) return false;
  if (test(error)) return true;
  const { driverError, cause, errors } = error as { driverError?: unknown; cause?: unknown; errors?: unknown };
  const nested = [driverError, cause, ...(Array.isArray(errors) ? (errors as unknown[]) : [])];
  return nested.some((inner) => inner !== error && someErrorInChain(inner, depth + 1, test));
}
