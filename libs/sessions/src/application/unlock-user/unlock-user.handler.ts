import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CLOCK, Clock } from '../ports/clock.port';
import { LOGIN_ATTEMPTS, LoginAttempts } from '../ports/login-attempts.port';
import { LOGIN_LOCKOUTS, LoginLockouts } from '../ports/login-lockouts.port';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { USER_ACCOUNTS, UserAccounts } from '../ports/user-accounts.port';
import { AuditTrail } from '../audit/audit-trail';
import { UnlockUser, UnlockUserOutcome } from './unlock-user.command';
import { UNLOCK_USER_EVENTS } from './unlock-user.events';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';

const INPUT: InputRules<UnlockUser> = {
  userId: Checks.uuid(),
  reason: Checks.reason(),
  actor: Checks.actor(),
  context: Checks.context(),
};

@CommandHandler(UnlockUser)
export class UnlockUserHandler implements ICommandHandler<UnlockUser> {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    @Inject(USER_ACCOUNTS) private readonly users: UserAccounts,
    @Inject(LOGIN_LOCKOUTS) private readonly lockouts: LoginLockouts,
    @Inject(LOGIN_ATTEMPTS) private readonly attempts: LoginAttempts,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly trail: AuditTrail,
  ) {}

  async execute(command: UnlockUser): Promise<UnlockUserOutcome> {
    const operation = this.trail.begin(UNLOCK_USER_EVENTS, {
      actor: command.actor,
      subjectUserId: command.userId,
      context: command.context,
      reason: command.reason,
    });
    return operation.run(async () => {
      assertValidInput(command, INPUT);
      const user = await this.users.findById(command.userId);
      if (!user) {
        operation.fail('user_not_found');
        return { kind: 'rejected', reason: 'user_not_found' };
      }
      const locks = await this.lockouts.uncleared(user.email);
      // Redis first, outside the transaction: it is what refuses a login. If it cannot be
      // cleared this throws, the rows stay uncleared and the console keeps showing the lock.
      await this.attempts.clear(
        user.email,
        locks.map((lock) => lock.network),
      );
      const locksCleared = await this.unitOfWork.inTransaction(async (tx) => {
        // Only the locks read: one engaged again since ends later, is not cleared in Redis, and stays listed.
        const cleared = await tx.lockouts.markCleared(user.email, locks, this.clock.now(), command.actor.id);
        await operation.succeedIn(tx, { details: { locksCleared: cleared } });
        return cleared;
      });
      return { kind: 'unlocked', locksCleared };
    });
  }
}
