import { ApiProblem } from '@app/platform';
import { AccessTokenGuard, AdminGuard, OptionalAccessTokenGuard } from '@app/sessions';
import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity, type HeadersObject } from '@nestjs/swagger';
import { BEARER_SCHEME } from './api-docs';

/**
 * The guards of the sessions library together with what they make a route answer, so the OpenAPI
 * document cannot drift from the guards (the library itself does not depend on @nestjs/swagger).
 */

const challenge = (description: string): HeadersObject => ({ 'WWW-Authenticate': { description, schema: { type: 'string' } } });
export const BEARER_CHALLENGE_HEADERS = challenge('The Bearer challenge (RFC 6750 §3), with `error="invalid_token"` when a token was sent and refused');
export const SCOPE_CHALLENGE_HEADERS = challenge('The Bearer challenge with `error="insufficient_scope"` (RFC 6750 §3.1)');

export const UNAUTHENTICATED_DESCRIPTION =
  'No access token, or one that is malformed, badly signed, expired or of an ended session (`code: invalid_token`: refresh, and sign in again only if the refresh is refused)';

/** AccessTokenGuard: a valid access token of a live session, else 401 with a challenge. */
export function Authenticated(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(AccessTokenGuard),
    ApiBearerAuth(BEARER_SCHEME),
    ApiProblem(401, UNAUTHENTICATED_DESCRIPTION, { headers: BEARER_CHALLENGE_HEADERS }),
  );
}

/** OptionalAccessTokenGuard: a valid access token is used when sent, and nothing is refused without one. */
export function OptionallyAuthenticated(): MethodDecorator {
  // Two alternatives: the Bearer scheme, or none (OpenAPI's empty requirement).
  return applyDecorators(UseGuards(OptionalAccessTokenGuard), ApiBearerAuth(BEARER_SCHEME), ApiSecurity({}));
}

/** AccessTokenGuard then AdminGuard: an administrator's access token, else 401, or 403 for anyone else's. */
export function AdminsOnly(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(AccessTokenGuard, AdminGuard),
    ApiBearerAuth(BEARER_SCHEME),
    ApiProblem(401, UNAUTHENTICATED_DESCRIPTION, { headers: BEARER_CHALLENGE_HEADERS }),
    ApiProblem(403, 'The access token is valid but not an administrator’s (`code: insufficient_scope`); the role is read on every request', {
      headers: SCOPE_CHALLENGE_HEADERS,
    }),
  );
}
