/**
 * Where a request came from. It travels inside each command, never on a shared object,
 * so concurrent requests can never be attributed to one another.
 */
export interface RequestContext {
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
}

export const NO_REQUEST_CONTEXT: RequestContext = Object.freeze({ ipAddress: null, userAgent: null });

const MAX_USER_AGENT_LENGTH = 512;

export function requestContext(ipAddress: string | null | undefined, userAgent: string | null | undefined): RequestContext {
  return {
    ipAddress: ipAddress || null,
    userAgent: userAgent ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : null,
  };
}
