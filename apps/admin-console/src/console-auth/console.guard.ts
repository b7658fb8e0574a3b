import { AccessTokenGuard, AdminGuard, SessionDirectory } from '@app/sessions';
import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { consoleCredentialOf } from './console-cookie';
import type { ConsoleRequest } from './console-request';
import { ConsoleCsrfTokens } from './csrf-tokens';

/** The methods that may change something (RFC 9110 §9.2.1's unsafe ones). */
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const CSRF_HEADER = 'x-csrf-token';
export const CONSOLE_SESSION_REQUIRED = 'Sign in to the console (POST /admin/auth/login), or send an administrator’s Bearer access token';

/**
 * Every /admin route's door. A request with an Authorization header is judged as before
 * (AccessTokenGuard, then AdminGuard): the Bearer token wins, and a bad one is a 401 whatever
 * cookie comes with it. Without one, the console session's cookie: its credential is looked up in
 * PostgreSQL on every request (a session revoked a moment ago on any instance is refused), and an
 * unsafe method must also prove it comes from the console's own page: no cross-site fetch, an
 * Origin (when sent) that is the console's own, and the session's CSRF token in X-CSRF-Token.
 * Then the role, read on every request as for a Bearer token.
 */
@Injectable()
export class ConsoleGuard implements CanActivate {
  constructor(
    private readonly bearer: AccessTokenGuard,
    private readonly administrators: AdminGuard,
    private readonly directory: SessionDirectory,
    private readonly csrf: ConsoleCsrfTokens,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ConsoleRequest>();
    const credential = consoleCredentialOf(request);
    if (request.headers.authorization !== undefined || credential === null) {
      await this.bearer.canActivate(context);
      return this.administrators.canActivate(context);
    }
    const session = await this.directory.findConsoleSession(credential);
    if (!session)
      throw new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message: CONSOLE_SESSION_REQUIRED, code: 'console_session_invalid' });
    if (UNSAFE_METHODS.has(request.method)) this.assertFromConsolePage(request, session.sessionId);
    request.authenticated = { userId: session.userId, sessionId: session.sessionId };
    request.consoleSession = { ...session, credential };
    return this.administrators.canActivate(context);
  }

  /** Nothing is read or changed before this passes: a refused request leaves no audit entry. */
  private assertFromConsolePage(request: ConsoleRequest, sessionId: string): void {
    const origin = request.headers.origin;
    if (request.headers['sec-fetch-site'] === 'cross-site' || (origin !== undefined && origin !== ownOrigin(request))) {
      throw csrfRefusal('cross_site_request', 'A cookie-authenticated change must come from the console’s own page (origin refused)');
    }
    const token = request.headers[CSRF_HEADER];
    if (!this.csrf.matches(sessionId, typeof token === 'string' ? token : undefined)) {
      throw csrfRefusal('csrf_token_invalid', 'A cookie-authenticated change needs the X-CSRF-Token header with the csrfToken of POST /admin/auth/login');
    }
  }
}

/** The console's origin as the browser sees it (behind a trusted proxy, its X-Forwarded-Proto and -Host). */
function ownOrigin(request: ConsoleRequest): string {
  return `${request.protocol}://${request.host}`;
}

function csrfRefusal(code: 'csrf_token_invalid' | 'cross_site_request', message: string): ForbiddenException {
  return new ForbiddenException({ statusCode: 403, error: 'Forbidden', message, code });
}
