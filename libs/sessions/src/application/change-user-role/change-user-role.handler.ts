import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { AuditTrail } from '../audit/audit-trail';
import { ChangeUserRole, ChangeUserRoleOutcome } from './change-user-role.command';
import { CHANGE_USER_ROLE_EVENTS } from './change-user-role.events';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';
import { USER_ROLES } from '../../domain/records';

const INPUT: InputRules<ChangeUserRole> = {
  userId: Checks.uuid(),
  role: Checks.oneOf(USER_ROLES),
  reason: Checks.reason(),
  actor: Checks.actor(),
  context: Checks.context(),
};

@CommandHandler(ChangeUserRole)
export class ChangeUserRoleHandler implements ICommandHandler<ChangeUserRole> {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    private readonly trail: AuditTrail,
  ) {}

  async execute(command: ChangeUserRole): Promise<ChangeUserRoleOutcome> {
    const operation = this.trail.begin(CHANGE_USER_ROLE_EVENTS, {
      actor: command.actor,
      subjectUserId: command.userId,
      context: command.context,
      reason: command.reason,
      details: { role: command.role },
    });
    return operation.run(async () => {
      assertValidInput(command, INPUT);
      // Decided here, not at an edge, so every caller of the library gets the same refusal, audited:
      // an administrator locking themself out by mistake needs another one to undo it.
      if (command.actor.type === 'admin' && command.actor.id?.toLowerCase() === command.userId.toLowerCase() && command.role !== 'admin') {
        operation.fail('cannot_demote_self');
        return { kind: 'rejected', reason: 'cannot_demote_self' };
      }
      const outcome = await this.unitOfWork.inTransaction(async (tx): Promise<ChangeUserRoleOutcome> => {
        const change = await tx.users.setRole(command.userId, command.role);
        if (change.kind !== 'set') return { kind: 'rejected', reason: change.kind };
        await operation.succeedIn(tx, { details: { role: command.role, previousRole: change.previousRole } });
        return { kind: 'changed', userId: command.userId, role: command.role, previousRole: change.previousRole };
      });
      if (outcome.kind === 'rejected') operation.fail(outcome.reason);
      return outcome;
    });
  }
}
