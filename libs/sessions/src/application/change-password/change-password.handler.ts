import { Inject } from '@nestjs/common';
import { CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actors } from '../../domain/actor';
import { passwordProblem } from '../../domain/password-policy';
import { RevocationReasons } from '../../domain/revocation-reason';
import { PASSWORD_HASHER, PasswordHasher } from '../ports/password-hasher.port';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { USER_ACCOUNTS, UserAccounts } from '../ports/user-accounts.port';
import { RevokeAllUserSessions, sessionsRevoked } from '../revoke-all-user-sessions/revoke-all-user-sessions.command';
import { receiptOf } from '../revocation/revocation-receipt';
import { AuditTrail } from '../audit/audit-trail';
import { ChangePassword, ChangePasswordOutcome } from './change-password.command';
import { CHANGE_PASSWORD_EVENTS } from './change-password.events';
import { CurrentPasswordGuesses } from './current-password-guesses';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';

const INPUT: InputRules<ChangePassword> = {
  userId: Checks.uuid(),
  currentSessionId: Checks.uuid(),
  currentPassword: Checks.bounded(),
  newPassword: Checks.bounded(),
  context: Checks.context(),
};

@CommandHandler(ChangePassword)
export class ChangePasswordHandler implements ICommandHandler<ChangePassword> {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    @Inject(USER_ACCOUNTS) private readonly users: UserAccounts,
    @Inject(PASSWORD_HASHER) private readonly hasher: PasswordHasher,
    private readonly trail: AuditTrail,
    private readonly commandBus: CommandBus,
    private readonly guesses: CurrentPasswordGuesses,
  ) {}

  async execute(command: ChangePassword): Promise<ChangePasswordOutcome> {
    const actor = Actors.user(command.userId);
    const operation = this.trail.begin(CHANGE_PASSWORD_EVENTS, {
      actor,
      subjectUserId: command.userId,
      sessionId: command.currentSessionId,
      context: command.context,
    });
    return operation.run(async () => {
      assertValidInput(command, INPUT);
      const user = await this.users.findById(command.userId);
      if (!user) {
        operation.fail('user_not_found');
        return { kind: 'rejected', reason: 'user_not_found' };
      }
      if (!(await this.hasher.verify(user.passwordHash, command.currentPassword))) {
        operation.fail('invalid_current_password');
        const revocation = await this.guesses.wrongCurrentPassword(user, command.currentSessionId, command.context);
        return { kind: 'rejected', reason: 'invalid_current_password', revocation };
      }
      const weak = passwordProblem(command.newPassword, { email: user.email });
      if (weak) {
        operation.fail('weak_password', { details: { problem: weak } });
        return { kind: 'rejected', reason: 'weak_password', problem: weak };
      }
      const newHash = await this.hasher.hash(command.newPassword);
      // The revoke-all joins this transaction: the new password and the end of every other
      // session commit together, or neither does.
      const receipt = await this.unitOfWork.inTransaction(async (tx) => {
        // Only if the hash verified above is still the password (the row stays locked until
        // commit): of two changes verified against one password, the second finds it replaced.
        if (!(await tx.users.replacePasswordHash(command.userId, user.passwordHash, newHash))) return null;
        const revoked = sessionsRevoked(
          await this.commandBus.execute(
            new RevokeAllUserSessions(command.userId, RevocationReasons.passwordChanged, actor, command.context, command.currentSessionId),
          ),
          'a password change',
        );
        // The user was read above and users are never deleted; a rejection here is a bug, and rolls back.
        await operation.succeedIn(tx, { count: revoked.revokedCount, sessionIds: revoked.sessionIds });
        return receiptOf(revoked);
      });
      if (receipt === null) {
        operation.fail('invalid_current_password', { details: { passwordChangedMeanwhile: true } });
        return { kind: 'rejected', reason: 'invalid_current_password', revocation: null };
      }
      return { kind: 'changed', ...receipt };
    });
  }
}
