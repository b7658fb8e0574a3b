import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { AuditTrail } from '../audit/audit-trail';
import { SessionRevocations } from '../revocation/session-revocations';
import { RevokeAllOutcome, RevokeAllUserSessions } from './revoke-all-user-sessions.command';
import { REVOKE_ALL_EVENTS } from './revoke-all-user-sessions.events';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';

const INPUT: InputRules<RevokeAllUserSessions> = {
  userId: Checks.uuid(),
  reason: Checks.reason(),
  actor: Checks.actor(),
  context: Checks.context(),
  exceptSessionId: Checks.nullableUuid(),
};

@CommandHandler(RevokeAllUserSessions)
export class RevokeAllUserSessionsHandler implements ICommandHandler<RevokeAllUserSessions> {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    private readonly trail: AuditTrail,
    private readonly revocations: SessionRevocations,
  ) {}

  async execute(command: RevokeAllUserSessions): Promise<RevokeAllOutcome> {
    const operation = this.trail.begin(REVOKE_ALL_EVENTS, {
      actor: command.actor,
      subjectUserId: command.userId,
      context: command.context,
      reason: command.reason,
      details: command.exceptSessionId ? { keptSessionId: command.exceptSessionId } : {},
    });
    return operation.run(async () => {
      assertValidInput(command, INPUT);
      const { ended, receipt } = await this.unitOfWork.inTransaction((tx) =>
        this.revocations.revoke(tx, operation, async (at) => {
          if (!(await tx.users.exists(command.userId))) return null;
          const stamp = { reason: command.reason, revokedBy: command.actor.id, at };
          return { userId: command.userId, sessionIds: await tx.sessions.revokeAll(command.userId, command.exceptSessionId, stamp) };
        }),
      );
      if (!ended) {
        operation.fail('user_not_found');
        return { kind: 'rejected', reason: 'user_not_found' };
      }
      return { kind: 'revoked', ...receipt };
    });
  }
}
