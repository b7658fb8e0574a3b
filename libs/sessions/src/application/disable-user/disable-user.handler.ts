import { Inject } from '@nestjs/common';
import { CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { RevocationReasons } from '../../domain/revocation-reason';
import { CLOCK, Clock } from '../ports/clock.port';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { RevokeAllUserSessions, sessionsRevoked } from '../revoke-all-user-sessions/revoke-all-user-sessions.command';
import { receiptOf } from '../revocation/revocation-receipt';
import { AuditTrail } from '../audit/audit-trail';
import { DisableUser, DisableUserOutcome } from './disable-user.command';
import { DISABLE_USER_EVENTS } from './disable-user.events';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';

const INPUT: InputRules<DisableUser> = {
  userId: Checks.uuid(),
  reason: Checks.reason(),
  actor: Checks.actor(),
  context: Checks.context(),
};

@CommandHandler(DisableUser)
export class DisableUserHandler implements ICommandHandler<DisableUser> {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly trail: AuditTrail,
    private readonly commandBus: CommandBus,
  ) {}

  async execute(command: DisableUser): Promise<DisableUserOutcome> {
    const operation = this.trail.begin(DISABLE_USER_EVENTS, {
      actor: command.actor,
      subjectUserId: command.userId,
      context: command.context,
      reason: command.reason,
    });
    return operation.run(async () => {
      assertValidInput(command, INPUT);
      const receipt = await this.unitOfWork.inTransaction(async (tx) => {
        // The row stays locked until commit: a login in flight has either committed (and the
        // revoke-all below ends its session) or will find the account disabled.
        if (!(await tx.users.setDisabled(command.userId, this.clock.now()))) return null;
        // Joins this transaction, markers and all: the session check refuses at once.
        const revoked = sessionsRevoked(
          await this.commandBus.execute(new RevokeAllUserSessions(command.userId, RevocationReasons.userDisabled, command.actor, command.context)),
          'a disable',
        );
        await operation.succeedIn(tx, { count: revoked.revokedCount, sessionIds: revoked.sessionIds });
        return receiptOf(revoked);
      });
      if (receipt === null) {
        operation.fail('user_not_found');
        return { kind: 'rejected', reason: 'user_not_found' };
      }
      return { kind: 'disabled', ...receipt };
    });
  }
}
