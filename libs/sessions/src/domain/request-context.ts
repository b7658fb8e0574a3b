/**
 * Where a request came from. It travels inside each command, never on a shared object,
 * so concurrent requests can never be attributed to one another.
 */
export interface RequestContext {
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  /**
   * The request's id (the X-Request-Id the host's edge accepted or made), recorded in the
   * command's audit entries so a log line and the entries of the same request can be joined.
   * Absent or null: none (a command not caused by a request).
   */
  readonly requestId?: string | null;
}

export const NO_REQUEST_CONTEXT: RequestContext = Object.freeze({ ipAddress: null, userAgent: null, requestId: null });

const MAX_USER_AGENT_LENGTH = 512;

/**
 * A request id as the audit trail records it: 1 to 128 characters of letters, digits and `._:-`
 * (a UUID, a ULID, a trace id, `<host>:<counter>`). Nothing else a client sends is kept: no
 * spaces, quotes or control characters that could forge a log line or break a header.
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export function isRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID_PATTERN.test(value);
}

/** A request id that is not one (see REQUEST_ID_PATTERN) is recorded as none. */
export function requestContext(ipAddress: string | null | undefined, userAgent: string | null | undefined, requestId?: string | null): RequestContext {
  return {
    ipAddress: ipAddress || null,
    userAgent: userAgent ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : null,
    requestId: isRequestId(requestId) ? requestId : null,
  };
}
