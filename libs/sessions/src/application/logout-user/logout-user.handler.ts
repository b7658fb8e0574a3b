import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actors } from '../../domain/actor';
import { hashRefreshToken } from '../../domain/refresh-token';
import { RevocationReasons } from '../../domain/revocation-reason';
import { CLOCK, Clock } from '../ports/clock.port';
import { SESSION_STORE, SessionStore } from '../ports/session-store.port';
import { AuditTrail } from '../shared/audit-trail';
import { RevokedSessionsCache } from '../shared/revoked-sessions-cache';
import { LogoutOutcome, LogoutRejection, LogoutUser } from './logout-user.command';
import { LOGOUT_EVENTS } from './logout-user.events';

@CommandHandler(LogoutUser)
export class LogoutUserHandler implements ICommandHandler<LogoutUser> {
  constructor(
    @Inject(SESSION_STORE) private readonly store: SessionStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly trail: AuditTrail,
    private readonly revokedSessions: RevokedSessionsCache,
  ) {}

  async execute(command: LogoutUser): Promise<LogoutOutcome> {
    const operation = this.trail.begin(LOGOUT_EVENTS, {
      actor: command.userId ? Actors.user(command.userId) : Actors.anonymous(),
      subjectUserId: command.userId,
      context: command.context,
      reason: RevocationReasons.logout,
    });
    return operation.run(async () => {
      const tokenHash = hashRefreshToken(command.refreshToken);
      const ended = await this.store.inTransaction(async (tx) => {
        const revoked = await tx.revokeSessionByRefreshToken(tokenHash, command.userId, {
          reason: RevocationReasons.logout,
          revokedBy: command.userId,
          at: this.clock.now(),
        });
        if (revoked) {
          await operation.succeedIn(tx, { subjectUserId: revoked.userId, sessionId: revoked.sessionId, sessionIds: [revoked.sessionId], count: 1 });
          await this.revokedSessions.markRevokedIn(tx, revoked.userId, [revoked.sessionId]);
        }
        return revoked;
      });
      if (!ended) {
        const reason = await this.whyNot(tokenHash, command.userId);
        operation.fail(reason);
        return { kind: 'rejected', reason };
      }
      return { kind: 'revoked', userId: ended.userId, sessionId: ended.sessionId };
    });
  }

  private async whyNot(tokenHash: Buffer, userId: string | null): Promise<LogoutRejection> {
    const token = await this.store.describeRefreshToken(tokenHash);
    if (!token) return 'token_not_found';
    if (userId !== null && token.userId !== userId) return 'token_user_mismatch';
    return 'token_already_revoked';
  }
}
