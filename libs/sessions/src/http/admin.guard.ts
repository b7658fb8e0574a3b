import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { SessionDirectory } from '../application/queries/session-directory';
import { AuthenticatedRequest } from './authenticated-request';

/**
 * Lets through admins only. Runs after AccessTokenGuard and reads the role from the database
 * on each request, so a demoted admin loses access at once (the role is not in the token).
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly directory: SessionDirectory) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const session = context.switchToHttp().getRequest<AuthenticatedRequest>().authenticated;
    const user = session ? await this.directory.findUser(session.userId) : null;
    if (user?.role !== 'admin') throw new ForbiddenException('This console is for administrators only');
    return true;
  }
}
