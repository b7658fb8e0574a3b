import { Inject, Injectable, Logger } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import { v7 as uuidv7 } from 'uuid';
import { Actor } from '../../domain/actor';
import { INTERNAL_ERROR_REASON } from '../../domain/audit-action';
import { RequestContext } from '../../domain/request-context';
import { InvalidCommandInput } from '../../domain/sessions-error';
import { toAuditEntry } from './audit-entry.mapper';
import { AuditOutcomeUnavailableError } from '../ports/audit-log.port';
import { CLOCK, Clock } from '../ports/clock.port';
import { Transaction } from '../ports/unit-of-work.port';
import { AuditableEvent, EventTriad, SessionEventFields, markRecordedInTransaction } from './auditable-event';
import { PROCESS_INSTANCE_ID } from './process-instance';
import { recordable } from './recordable';

export interface OperationStart {
  readonly actor: Actor;
  readonly subjectUserId: string | null;
  readonly context: RequestContext;
  readonly sessionId?: string | null;
  readonly reason?: string | null;
  readonly details?: Record<string, unknown>;
}

/** Fields an outcome may add to, or change from, what the Attempted event said. */
export type OutcomePatch = Partial<Pick<SessionEventFields, 'actor' | 'subjectUserId' | 'sessionId' | 'sessionIds' | 'reason' | 'count' | 'details'>>;

/** Starts audited operations: one per command execution. */
@Injectable()
export class AuditTrail {
  constructor(
    private readonly eventBus: EventBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  begin(triad: EventTriad, start: OperationStart): AuditedOperation {
    return new AuditedOperation(this.eventBus, this.clock, triad, start);
  }
}

type State = 'open' | 'awaiting_commit' | 'settled';

/**
 * Emits a command's Attempted event at once, then exactly one outcome:
 * - a Succeeded event whose audit entry is written in the command's own transaction and
 *   which is published only after that transaction commits (Failed instead if it rolls back);
 * - or a Failed event, for an expected rejection or an unexpected error.
 */
export class AuditedOperation {
  private static readonly logger = new Logger('AuditedOperation');
  readonly correlationId = uuidv7();
  private state: State = 'open';
  private readonly base: Omit<SessionEventFields, 'eventId' | 'occurredAt'>;
  private readonly attempted: AuditableEvent;

  constructor(
    private readonly eventBus: EventBus,
    private readonly clock: Clock,
    private readonly triad: EventTriad,
    start: OperationStart,
  ) {
    const facts = recordable({
      actor: start.actor,
      subjectUserId: start.subjectUserId,
      sessionId: start.sessionId ?? null,
      reason: start.reason ?? null,
      context: start.context,
      details: start.details ?? {},
    });
    this.base = { ...facts, correlationId: this.correlationId, sessionIds: [], count: null };
    this.attempted = this.make(this.triad.attempted, { details: { ...this.base.details, instance: PROCESS_INSTANCE_ID } });
    this.eventBus.publish(this.attempted);
  }

  /**
   * Records success inside the transaction that makes it true. The audit row commits with
   * the change itself, so a committed revocation can never lose its record.
   */
  async succeedIn(tx: Transaction, patch: OutcomePatch = {}): Promise<void> {
    this.assertOpen('succeed');
    const succeeded = this.make(this.triad.succeeded, patch);
    // The Attempted entry goes in too (a no-op if the saga already wrote it): a committed change
    // then always has both, even if the process dies before the saga's write.
    try {
      await tx.audit.append([toAuditEntry(this.attempted), toAuditEntry(succeeded)]);
    } catch (error) {
      // The operation was closed (as interrupted) by a recovery pass that took this instance for
      // dead. The change must not commit under that outcome: the error rolls it back. Loud, as
      // it means this instance could not beat for longer than the recovery threshold.
      if (error instanceof AuditOutcomeUnavailableError) {
        AuditedOperation.logger.error({ msg: 'audit_outcome_already_recorded', correlationId: this.correlationId, action: succeeded.action, rolledBack: true });
      }
      throw error;
    }
    markRecordedInTransaction(succeeded);
    this.state = 'awaiting_commit';
    tx.afterCommit(() => {
      this.state = 'settled';
      this.eventBus.publish(succeeded);
    });
    tx.afterRollback((error) => {
      this.state = 'settled';
      this.eventBus.publish(
        this.make(this.triad.failed, {
          ...patch,
          reason: INTERNAL_ERROR_REASON,
          details: { ...this.base.details, ...patch.details, ...errorDetails(error), rolledBack: true },
        }),
      );
    });
  }

  /** Records an expected rejection: nothing was changed, so there is no transaction to wait for. */
  fail(reason: string, patch: OutcomePatch = {}): void {
    this.assertOpen('fail');
    this.state = 'settled';
    this.eventBus.publish(this.make(this.triad.failed, { ...patch, reason }));
  }

  /**
   * Runs the body; if it throws before an outcome was recorded, emits Failed and rethrows: with
   * reason invalid_input and the field for InvalidCommandInput (see assertValidInput), with
   * internal_error for anything else. An outcome waiting for its transaction is left to it.
   */
  async run<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      if (this.state === 'open') {
        this.state = 'settled';
        const failed =
          error instanceof InvalidCommandInput
            ? { reason: error.code, details: { ...this.base.details, field: error.field, problem: error.problem } }
            : { reason: INTERNAL_ERROR_REASON, details: { ...this.base.details, ...errorDetails(error) } };
        this.eventBus.publish(this.make(this.triad.failed, failed));
      }
      throw error;
    }
  }

  private assertOpen(what: string): void {
    if (this.state !== 'open') {
      // A second outcome is a bug in a handler; refuse it loudly rather than record it.
      const message = `Cannot ${what}: operation ${this.correlationId} already has an outcome`;
      AuditedOperation.logger.error(message);
      throw new Error(message);
    }
  }

  private make(eventClass: EventTriad['attempted'], patch: OutcomePatch): AuditableEvent {
    return new eventClass({ ...this.base, ...patch, eventId: uuidv7(), occurredAt: this.clock.now() });
  }
}

/** Only the error's class and code reach the audit trail: messages may quote input. */
function errorDetails(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { error: error.name, ...(typeof code === 'string' ? { errorCode: code } : {}) };
  }
  return { error: 'unknown' };
}
