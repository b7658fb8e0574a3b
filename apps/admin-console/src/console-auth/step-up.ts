import { ApiProblem } from '@app/platform';
import { type AuthenticatedSession, SessionDirectory } from '@app/sessions';
import { ForbiddenException, Inject, Injectable } from '@nestjs/common';
import { SCOPE_CHALLENGE_HEADERS } from '@app/runtime';
import { CONSOLE_FORBIDDEN } from './console-access';

/** ADMIN_REAUTH_WINDOW_SECONDS, as the admin console module provides it. */
export const REAUTH_WINDOW_SECONDS = Symbol('ReauthWindowSeconds');

export const REAUTHENTICATION_REQUIRED =
  'Enter your password again (POST /admin/auth/reauthenticate) to act on another administrator or on several users at once';

/**
 * The step-up of destructive admin actions, checked on the server whatever the credential
 * (cookie or Bearer): acting on another administrator, or on more than one user at once, needs
 * the caller's session to have had its password entered (a console sign-in, or
 * POST /admin/auth/reauthenticate) within the window. Call it before dispatching the command:
 * a refusal changes nothing and is not audited (nothing was attempted).
 */
@Injectable()
export class StepUp {
  constructor(
    private readonly directory: SessionDirectory,
    @Inject(REAUTH_WINDOW_SECONDS) private readonly windowSeconds: number,
  ) {}

  /** An action on one user (unknown users need none: the command refuses them, audited). */
  async forUser(caller: AuthenticatedSession, userId: string): Promise<void> {
    if (userId === caller.userId) return;
    const target = await this.directory.findUser(userId);
    if (target?.role === 'admin') await this.requireRecent(caller);
  }

  /** An action on these users: several always need it. */
  async forUsers(caller: AuthenticatedSession, userIds: readonly string[]): Promise<void> {
    if (new Set(userIds).size > 1) return this.requireRecent(caller);
    if (userIds.length === 1) return this.forUser(caller, userIds[0]);
  }

  /** An action on one session: its owner is the target. */
  async forSession(caller: AuthenticatedSession, sessionId: string): Promise<void> {
    const session = await this.directory.findSession(sessionId);
    if (session) await this.forUser(caller, session.userId);
  }

  /** When the caller's session stops allowing such actions (null: it never reauthenticated). */
  async reauthenticatedUntil(sessionId: string): Promise<Date | null> {
    const at = (await this.directory.findSession(sessionId))?.reauthenticatedAt ?? null;
    return at && this.until(at);
  }

  until(reauthenticatedAt: Date): Date {
    return new Date(reauthenticatedAt.getTime() + this.windowSeconds * 1000);
  }

  private async requireRecent(caller: AuthenticatedSession): Promise<void> {
    const until = await this.reauthenticatedUntil(caller.sessionId);
    if (until === null || until.getTime() <= Date.now()) {
      throw new ForbiddenException({ statusCode: 403, error: 'Forbidden', message: REAUTHENTICATION_REQUIRED, code: 'reauthentication_required' });
    }
  }
}

/** The 403 of a route that calls StepUp, with ConsoleGuard's own refusals (one description per status in OpenAPI). */
export function StepUpRequired(): MethodDecorator {
  return ApiProblem(
    403,
    `${CONSOLE_FORBIDDEN}; or, on another administrator or several users, no reauthentication within ADMIN_REAUTH_WINDOW_SECONDS (\`code: reauthentication_required\`: ${REAUTHENTICATION_REQUIRED})`,
    { headers: SCOPE_CHALLENGE_HEADERS },
  );
}
