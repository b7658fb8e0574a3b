import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { AuditTrail } from '../audit/audit-trail';
import { EnableUser, EnableUserOutcome } from './enable-user.command';
import { ENABLE_USER_EVENTS } from './enable-user.events';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';

const INPUT: InputRules<EnableUser> = {
  userId: Checks.uuid(),
  reason: Checks.reason(),
  actor: Checks.actor(),
  context: Checks.context(),
};

@CommandHandler(EnableUser)
export class EnableUserHandler implements ICommandHandler<EnableUser> {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    private readonly trail: AuditTrail,
  ) {}

  async execute(command: EnableUser): Promise<EnableUserOutcome> {
    const operation = this.trail.begin(ENABLE_USER_EVENTS, {
      actor: command.actor,
      subjectUserId: command.userId,
      context: command.context,
      reason: command.reason,
    });
    return operation.run(async () => {
      assertValidInput(command, INPUT);
      const found = await this.unitOfWork.inTransaction(async (tx) => {
        if (!(await tx.users.setDisabled(command.userId, null))) return false;
        await operation.succeedIn(tx);
        return true;
      });
      if (!found) {
        operation.fail('user_not_found');
        return { kind: 'rejected', reason: 'user_not_found' };
      }
      return { kind: 'enabled' };
    });
  }
}
