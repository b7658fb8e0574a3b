import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actors } from '../../domain/actor';
import { hashRefreshToken, REFRESH_TOKEN_PATTERN } from '../../domain/refresh-token';
import { RevocationReasons } from '../../domain/revocation-reason';
import { SESSION_RECORDS, SessionRecords } from '../ports/session-records.port';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { AuditTrail } from '../audit/audit-trail';
import { SessionRevocations } from '../revocation/session-revocations';
import { OutcomePatch } from '../audit/audit-trail';
import { LogoutOutcome, LogoutRejection, LogoutUser } from './logout-user.command';
import { LOGOUT_EVENTS } from './logout-user.events';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';

const INPUT: InputRules<LogoutUser> = {
  refreshToken: Checks.pattern(REFRESH_TOKEN_PATTERN, 'a refresh token issued by this service (43 base64url characters)'),
  userId: Checks.nullableUuid(),
  sessionId: Checks.nullableUuid(),
  context: Checks.context(),
};

@CommandHandler(LogoutUser)
export class LogoutUserHandler implements ICommandHandler<LogoutUser> {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    @Inject(SESSION_RECORDS) private readonly sessions: SessionRecords,
    private readonly trail: AuditTrail,
    private readonly revocations: SessionRevocations,
  ) {}

  async execute(command: LogoutUser): Promise<LogoutOutcome> {
    const operation = this.trail.begin(LOGOUT_EVENTS, {
      actor: command.userId ? Actors.user(command.userId) : Actors.anonymous(),
      subjectUserId: command.userId,
      context: command.context,
      reason: RevocationReasons.logout,
    });
    return operation.run(async () => {
      assertValidInput(command, INPUT);
      const tokenHash = hashRefreshToken(command.refreshToken);
      let refused: OutcomePatch = {};
      const { ended, receipt } = await this.unitOfWork.inTransaction((tx) =>
        this.revocations.revoke(
          tx,
          operation,
          async (at) => {
            const stamp = { reason: RevocationReasons.logout, revokedBy: command.userId, at };
            const sessions: Array<{ userId: string; sessionId: string }> = [];
            const byToken = await tx.sessions.revokeByRefreshToken(tokenHash, command.userId, stamp);
            if (byToken) sessions.push(byToken);
            // A valid Bearer ends its own session even when the refresh token is unknown or another's.
            if (command.userId !== null && command.sessionId !== null && command.sessionId !== byToken?.sessionId) {
              if (await tx.sessions.revoke(command.userId, command.sessionId, stamp)) sessions.push({ userId: command.userId, sessionId: command.sessionId });
            }
            if (sessions.length === 0) return null;
            // Ended by its Bearer alone: say why the refresh token ended nothing (another user's, say).
            if (!byToken) refused = { details: { refreshTokenRefused: await this.whyNot(tokenHash, command.userId) } };
            return { userId: sessions[0].userId, sessionIds: sessions.map((s) => s.sessionId) };
          },
          (ended) => ({ sessionId: ended.sessionIds[0], ...refused }),
        ),
      );
      if (!ended) {
        const reason = await this.whyNot(tokenHash, command.userId);
        operation.fail(reason);
        return { kind: 'rejected', reason, ...receipt };
      }
      return { kind: 'revoked', userId: ended.userId, sessionId: ended.sessionIds[0], ...receipt };
    });
  }

  private async whyNot(tokenHash: Buffer, userId: string | null): Promise<LogoutRejection> {
    const token = await this.sessions.describeRefreshToken(tokenHash);
    if (!token) return 'token_not_found';
    if (userId !== null && token.userId !== userId) return 'token_user_mismatch';
    return 'token_already_revoked';
  }
}
