import { ForbiddenException, UnauthorizedException } from '@nestjs/common';

/** The protection space the guards name in their challenges (RFC 6750 §3: `realm`). */
export const BEARER_REALM = 'sessions';

/** RFC 6750 §3.1's codes that the guards answer with. */
export type BearerErrorCode = 'invalid_token' | 'insufficient_scope';

/** What RFC 6750 §3 allows inside error_description's quotes: printable ASCII but `"` and `\`. */
const DESCRIPTION = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

/**
 * The `WWW-Authenticate` value of a refusal. Without an error: the request carried no Bearer
 * token, and RFC 6750 §3.1 says then to name no error (the client had nothing to be wrong about).
 */
export function bearerChallenge(error?: { readonly code: BearerErrorCode; readonly description: string }): string {
  if (!error) return `Bearer realm="${BEARER_REALM}"`;
  if (!DESCRIPTION.test(error.description)) throw new Error(`error_description must be printable ASCII without " or \\: ${error.description}`);
  return `Bearer realm="${BEARER_REALM}", error="${error.code}", error_description="${error.description}"`;
}

export const ACCESS_TOKEN_REQUIRED = 'A Bearer access token is required';
export const ACCESS_TOKEN_REFUSED = 'The access token is invalid or expired, or its session has ended';
export const ADMINISTRATORS_ONLY = 'This console is for administrators only';

/**
 * Nest's envelope (`statusCode`, `message`, `error`) plus a `code` that a client can branch on:
 * a host's problem+json filter keeps it as an extension member, Nest's own error answer sends it
 * as is. No code: the request carried no token.
 */
export function unauthorized(message: string, code?: BearerErrorCode): UnauthorizedException {
  return new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message, ...(code ? { code } : {}) });
}

export function forbidden(message: string, code: BearerErrorCode): ForbiddenException {
  return new ForbiddenException({ statusCode: 403, error: 'Forbidden', message, code });
}
