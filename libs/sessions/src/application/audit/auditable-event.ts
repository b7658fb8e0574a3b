import { IEvent } from '@nestjs/cqrs';
import { Actor } from '../../domain/actor';
import { AuditAction, AuditOutcome } from '../../domain/audit-action';

/** The plain data every session event carries, enough for a PCI-DSS 10.2.2 audit record. */
export interface SessionEventFields {
  readonly eventId: string;
  /** Shared by the Attempted event and its one outcome. */
  readonly correlationId: string;
  readonly occurredAt: Date;
  readonly actor: Actor;
  /** The user the command is about. */
  readonly subjectUserId: string | null;
  readonly sessionId: string | null;
  readonly sessionIds: readonly string[];
  readonly reason: string | null;
  readonly count: number | null;
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  /** The request that caused the command (RequestContext.requestId); absent or null: none. */
  readonly requestId?: string | null;
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * Base of every event a command emits. Subclasses only name the action and outcome,
 * so all of them map to an audit entry the same way.
 */
export abstract class AuditableEvent implements IEvent, SessionEventFields {
  abstract readonly action: AuditAction;
  abstract readonly outcome: AuditOutcome;

  readonly eventId: string;
  readonly correlationId: string;
  readonly occurredAt: Date;
  readonly actor: Actor;
  readonly subjectUserId: string | null;
  readonly sessionId: string | null;
  readonly sessionIds: readonly string[];
  readonly reason: string | null;
  readonly count: number | null;
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(fields: SessionEventFields) {
    this.eventId = fields.eventId;
    this.correlationId = fields.correlationId;
    this.occurredAt = fields.occurredAt;
    this.actor = fields.actor;
    this.subjectUserId = fields.subjectUserId;
    this.sessionId = fields.sessionId;
    this.sessionIds = fields.sessionIds;
    this.reason = fields.reason;
    this.count = fields.count;
    this.ipAddress = fields.ipAddress;
    this.userAgent = fields.userAgent;
    this.requestId = fields.requestId ?? null;
    this.details = fields.details;
  }
}

export type AuditableEventClass = new (fields: SessionEventFields) => AuditableEvent;

/** The three events of one command: Attempted, then exactly one of Succeeded or Failed. */
export interface EventTriad {
  readonly attempted: AuditableEventClass;
  readonly succeeded: AuditableEventClass;
  readonly failed: AuditableEventClass;
}

/** Events whose audit entry was already written in their command's transaction. */
const recordedInTransaction = new WeakSet<AuditableEvent>();

export function markRecordedInTransaction(event: AuditableEvent): void {
  recordedInTransaction.add(event);
}

/** The audit saga skips these: writing them again would only be a no-op round trip. */
export function wasRecordedInTransaction(event: AuditableEvent): boolean {
  return recordedInTransaction.has(event);
}
