import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { isUuid } from '../../domain/identifiers';
import { SESSION_RECORDS, SessionRecords } from '../ports/session-records.port';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { AuditTrail } from '../audit/audit-trail';
import { SessionRevocations } from '../revocation/session-revocations';
import { RevokeSession, RevokeSessionOutcome } from './revoke-session.command';
import { REVOKE_SESSION_EVENTS } from './revoke-session.events';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';

const INPUT: InputRules<RevokeSession> = {
  userId: Checks.nullableUuid(),
  sessionId: Checks.uuid(),
  reason: Checks.reason(),
  actor: Checks.actor(),
  context: Checks.context(),
  details: Checks.details(),
};

@CommandHandler(RevokeSession)
export class RevokeSessionHandler implements ICommandHandler<RevokeSession> {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    @Inject(SESSION_RECORDS) private readonly sessions: SessionRecords,
    private readonly trail: AuditTrail,
    private readonly revocations: SessionRevocations,
  ) {}

  async execute(command: RevokeSession): Promise<RevokeSessionOutcome> {
    const operation = this.trail.begin(REVOKE_SESSION_EVENTS, {
      actor: command.actor,
      subjectUserId: command.userId ?? (await this.ownerOf(command.sessionId)),
      sessionId: command.sessionId,
      context: command.context,
      reason: command.reason,
      details: { ...command.details },
    });
    return operation.run(async () => {
      assertValidInput(command, INPUT);
      const { ended, receipt } = await this.unitOfWork.inTransaction((tx) =>
        this.revocations.revoke(tx, operation, async (at) => {
          const stamp = { reason: command.reason, revokedBy: command.actor.id, at };
          const owner = await tx.sessions.revoke(command.userId, command.sessionId, stamp);
          return owner ? { userId: owner, sessionIds: [command.sessionId] } : null;
        }),
      );
      if (!ended) {
        operation.fail('session_not_found');
        return { kind: 'rejected', reason: 'session_not_found' };
      }
      return { kind: 'revoked', sessionId: command.sessionId, userId: ended.userId, ...receipt };
    });
  }

  /**
   * Names the subject of an administrator's revocation in its Attempted entry. Only a hint: the
   * revocation itself decides in one statement, and a failed read leaves the subject unknown
   * rather than the operation unaudited.
   */
  private async ownerOf(sessionId: string): Promise<string | null> {
    if (!isUuid(sessionId)) return null; // refused as invalid input, once the operation is open
    return (await this.sessions.find(sessionId).catch(() => null))?.userId ?? null;
  }
}
