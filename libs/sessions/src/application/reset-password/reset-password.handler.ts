import { Inject } from '@nestjs/common';
import { CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actors } from '../../domain/actor';
import { passwordProblem } from '../../domain/password-policy';
import { hashPasswordResetToken, PASSWORD_RESET_TOKEN_PATTERN } from '../../domain/password-reset-token';
import { RevocationReasons } from '../../domain/revocation-reason';
import { CLOCK, Clock } from '../ports/clock.port';
import { PASSWORD_HASHER, PasswordHasher } from '../ports/password-hasher.port';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { RevokeAllUserSessions, sessionsRevoked } from '../revoke-all-user-sessions/revoke-all-user-sessions.command';
import { receiptOf } from '../revocation/revocation-receipt';
import { AuditTrail } from '../audit/audit-trail';
import { ResetPassword, ResetPasswordOutcome } from './reset-password.command';
import { RESET_PASSWORD_EVENTS } from './reset-password.events';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';

const INPUT: InputRules<ResetPassword> = {
  resetToken: Checks.pattern(PASSWORD_RESET_TOKEN_PATTERN, 'a reset token issued by this service (43 base64url characters)'),
  newPassword: Checks.bounded(),
  context: Checks.context(),
};

@CommandHandler(ResetPassword)
export class ResetPasswordHandler implements ICommandHandler<ResetPassword> {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    @Inject(PASSWORD_HASHER) private readonly hasher: PasswordHasher,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly trail: AuditTrail,
    private readonly commandBus: CommandBus,
  ) {}

  async execute(command: ResetPassword): Promise<ResetPasswordOutcome> {
    const operation = this.trail.begin(RESET_PASSWORD_EVENTS, { actor: Actors.anonymous(), subjectUserId: null, context: command.context });
    return operation.run(async () => {
      assertValidInput(command, INPUT);
      // The same policy as every other new password; the account is not known before the token is
      // redeemed, so the email's words are not checked here.
      const weak = passwordProblem(command.newPassword);
      if (weak) {
        operation.fail('weak_password', { details: { problem: weak } });
        return { kind: 'rejected', reason: 'weak_password', problem: weak };
      }
      const tokenHash = hashPasswordResetToken(command.resetToken);
      const newHash = await this.hasher.hash(command.newPassword);
      const reset = await this.unitOfWork.inTransaction(async (tx) => {
        // One statement redeems it: of two concurrent redemptions of one token, one wins.
        const userId = await tx.users.redeemPasswordReset(tokenHash, newHash, this.clock.now());
        if (!userId) return null;
        const actor = Actors.user(userId);
        const revoked = sessionsRevoked(
          await this.commandBus.execute(new RevokeAllUserSessions(userId, RevocationReasons.passwordReset, actor, command.context)),
          'a password reset',
        );
        await operation.succeedIn(tx, { actor, subjectUserId: userId, count: revoked.revokedCount, sessionIds: revoked.sessionIds });
        return { userId, ...receiptOf(revoked) };
      });
      if (!reset) {
        operation.fail('reset_token_invalid');
        return { kind: 'rejected', reason: 'reset_token_invalid' };
      }
      return { kind: 'reset', ...reset };
    });
  }
}
