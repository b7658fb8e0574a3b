import { ApiProblem } from '@app/platform';
import { BEARER_CHALLENGE_HEADERS, BEARER_SCHEME, SCOPE_CHALLENGE_HEADERS, type ApiCookieScheme } from '@app/runtime';
import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth } from '@nestjs/swagger';
import { CONSOLE_COOKIE, SECURE_CONSOLE_COOKIE } from './console-cookie';
import { ConsoleGuard } from './console.guard';

export const CONSOLE_COOKIE_SCHEME = 'consoleSession';

/** The console cookie as the OpenAPI document describes it (`ApiDocsDescription.cookieAuth`). */
export const CONSOLE_COOKIE_AUTH: ApiCookieScheme = {
  scheme: CONSOLE_COOKIE_SCHEME,
  cookieName: CONSOLE_COOKIE,
  description: `The console session set by POST /admin/auth/login (HttpOnly, SameSite=Strict; named ${SECURE_CONSOLE_COOKIE} and Secure over HTTPS). POST, PUT, PATCH and DELETE with it also need the X-CSRF-Token header (the csrfToken of the login).`,
};

/** What a refused request of ConsoleGuard's answers; a route that adds a refusal of its own (step-up) names all of them again. */
export const CONSOLE_FORBIDDEN =
  'Valid credentials but not an administrator’s (`code: insufficient_scope`; the role is read on every request), or a cookie request that changes something without the session’s X-CSRF-Token (`code: csrf_token_invalid`) or from another origin (`code: cross_site_request`)';

/**
 * ConsoleGuard on a controller or route: an administrator's Bearer token, or the console session's
 * cookie (with its CSRF token on changes). OpenAPI lists the two schemes as alternatives.
 */
export function ConsoleAdminsOnly(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(ConsoleGuard),
    ApiBearerAuth(BEARER_SCHEME),
    ApiCookieAuth(CONSOLE_COOKIE_SCHEME),
    ApiProblem(
      401,
      'No credentials, a Bearer token that is malformed, expired or of an ended session (`code: invalid_token`), or a console cookie whose session has ended (`code: console_session_invalid`)',
      { headers: BEARER_CHALLENGE_HEADERS },
    ),
    ApiProblem(403, CONSOLE_FORBIDDEN, { headers: SCOPE_CHALLENGE_HEADERS }),
  );
}
