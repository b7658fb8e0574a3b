import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actors } from '../../domain/actor';
import { CurrentPasswordGuesses } from '../change-password/current-password-guesses';
import { CLOCK, Clock } from '../ports/clock.port';
import { PASSWORD_HASHER, PasswordHasher } from '../ports/password-hasher.port';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { USER_ACCOUNTS, UserAccounts } from '../ports/user-accounts.port';
import { AuditTrail } from '../audit/audit-trail';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';
import { ReauthenticateOutcome, ReauthenticateSession } from './reauthenticate-session.command';
import { REAUTHENTICATE_EVENTS } from './reauthenticate-session.events';

const INPUT: InputRules<ReauthenticateSession> = {
  userId: Checks.uuid(),
  sessionId: Checks.uuid(),
  password: Checks.bounded(),
  context: Checks.context(),
};

@CommandHandler(ReauthenticateSession)
export class ReauthenticateSessionHandler implements ICommandHandler<ReauthenticateSession> {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    @Inject(USER_ACCOUNTS) private readonly users: UserAccounts,
    @Inject(PASSWORD_HASHER) private readonly hasher: PasswordHasher,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly trail: AuditTrail,
    private readonly guesses: CurrentPasswordGuesses,
  ) {}

  async execute(command: ReauthenticateSession): Promise<ReauthenticateOutcome> {
    const operation = this.trail.begin(REAUTHENTICATE_EVENTS, {
      actor: Actors.user(command.userId),
      subjectUserId: command.userId,
      sessionId: command.sessionId,
      context: command.context,
    });
    return operation.run(async () => {
      assertValidInput(command, INPUT);
      const user = await this.users.findById(command.userId);
      if (!user) {
        operation.fail('user_not_found');
        return { kind: 'rejected', reason: 'user_not_found' };
      }
      if (!(await this.hasher.verify(user.passwordHash, command.password))) {
        operation.fail('invalid_password');
        // A guess with a stolen session, like a wrong current password: one budget for both.
        const revocation = await this.guesses.wrongCurrentPassword(user, command.sessionId, command.context);
        return { kind: 'rejected', reason: 'invalid_password', revocation };
      }
      const at = this.clock.now();
      const recorded = await this.unitOfWork.inTransaction(async (tx) => {
        if (!(await tx.sessions.markReauthenticated(command.userId, command.sessionId, at))) return false;
        await operation.succeedIn(tx);
        return true;
      });
      if (!recorded) {
        operation.fail('session_inactive');
        return { kind: 'rejected', reason: 'session_inactive' };
      }
      return { kind: 'reauthenticated', reauthenticatedAt: at };
    });
  }
}
