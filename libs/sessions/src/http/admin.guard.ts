import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { SessionDirectory } from '../application/queries/session-directory';
import { AuthenticatedRequest } from './authenticated-request';
import { ADMINISTRATORS_ONLY, bearerChallenge, forbidden } from './bearer-challenge';
import { setResponseHeader } from './http-message';

/**
 * Lets through admins only. Runs after AccessTokenGuard and reads the role from the database
 * on each request, so a demoted admin loses access at once (the role is not in the token).
 * A refusal is a 403 with RFC 6750's `error="insufficient_scope"`: the token is good, signing in
 * again or refreshing would not help.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly directory: SessionDirectory) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const session = http.getRequest<AuthenticatedRequest>().authenticated;
    const user = session ? await this.directory.findUser(session.userId) : null;
    if (user?.role !== 'admin') {
      setResponseHeader(http.getResponse<unknown>(), 'WWW-Authenticate', bearerChallenge({ code: 'insufficient_scope', description: ADMINISTRATORS_ONLY }));
      throw forbidden(ADMINISTRATORS_ONLY, 'insufficient_scope');
    }
    return true;
  }
}
