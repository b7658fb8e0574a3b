import { Inject } from '@nestjs/common';
import { CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { newPasswordResetToken } from '../../domain/password-reset-token';
import { RevocationReasons } from '../../domain/revocation-reason';
import { PASSWORD_RESET_TOKEN_TTL_SECONDS } from '../../domain/session-rules';
import { CLOCK, Clock } from '../ports/clock.port';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { RevokeAllUserSessions, sessionsRevoked } from '../revoke-all-user-sessions/revoke-all-user-sessions.command';
import { receiptOf } from '../revocation/revocation-receipt';
import { AuditTrail } from '../audit/audit-trail';
import { RequirePasswordReset, RequirePasswordResetOutcome } from './require-password-reset.command';
import { REQUIRE_PASSWORD_RESET_EVENTS } from './require-password-reset.events';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';

const INPUT: InputRules<RequirePasswordReset> = {
  userId: Checks.uuid(),
  reason: Checks.reason(),
  actor: Checks.actor(),
  context: Checks.context(),
};

@CommandHandler(RequirePasswordReset)
export class RequirePasswordResetHandler implements ICommandHandler<RequirePasswordReset> {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly trail: AuditTrail,
    private readonly commandBus: CommandBus,
  ) {}

  async execute(command: RequirePasswordReset): Promise<RequirePasswordResetOutcome> {
    const operation = this.trail.begin(REQUIRE_PASSWORD_RESET_EVENTS, {
      actor: command.actor,
      subjectUserId: command.userId,
      context: command.context,
      reason: command.reason,
    });
    return operation.run(async () => {
      assertValidInput(command, INPUT);
      const now = this.clock.now();
      const expiresAt = new Date(now.getTime() + PASSWORD_RESET_TOKEN_TTL_SECONDS * 1000);
      const reset = newPasswordResetToken();
      const receipt = await this.unitOfWork.inTransaction(async (tx) => {
        // Locks the row like a password change: a login with the old password in flight either
        // commits first (and is ended below) or is refused.
        if (!(await tx.users.requirePasswordReset(command.userId, reset.hash, now, expiresAt))) return null;
        const revoked = sessionsRevoked(
          await this.commandBus.execute(new RevokeAllUserSessions(command.userId, RevocationReasons.passwordResetRequired, command.actor, command.context)),
          'a password reset requirement',
        );
        // The token itself is never audited, only until when it can be used.
        await operation.succeedIn(tx, {
          count: revoked.revokedCount,
          sessionIds: revoked.sessionIds,
          details: { resetTokenExpiresAt: expiresAt.toISOString() },
        });
        return receiptOf(revoked);
      });
      if (receipt === null) {
        operation.fail('user_not_found');
        return { kind: 'rejected', reason: 'user_not_found' };
      }
      return { kind: 'reset_required', ...receipt, resetToken: reset.token, expiresAt };
    });
  }
}
