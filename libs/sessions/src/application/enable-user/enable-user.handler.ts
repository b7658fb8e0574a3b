import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { SESSION_STORE, SessionStore } from '../ports/session-store.port';
import { AuditTrail } from '../shared/audit-trail';
import { EnableUser, EnableUserOutcome } from './enable-user.command';
import { ENABLE_USER_EVENTS } from './enable-user.events';

@CommandHandler(EnableUser)
export class EnableUserHandler implements ICommandHandler<EnableUser> {
  constructor(
    @Inject(SESSION_STORE) private readonly store: SessionStore,
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
      const found = await this.store.inTransaction(async (tx) => {
        if (!(await tx.setUserDisabled(command.userId, null))) return false;
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
