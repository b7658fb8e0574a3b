import { ActorType } from '../../domain/actor';
import { AuditAction, AuditOutcome } from '../../domain/audit-action';

/** One row of the append-only audit trail; made from one event. */
export interface AuditEntry {
  readonly eventId: string;
  readonly correlationId: string;
  readonly action: AuditAction;
  readonly outcome: AuditOutcome;
  readonly occurredAt: Date;
  readonly userId: string | null;
  readonly actorType: ActorType;
  readonly actorId: string | null;
  /** The service's name when actorType is 'service'; null otherwise. */
  readonly actorName: string | null;
  readonly sessionId: string | null;
  readonly reason: string | null;
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  /** The X-Request-Id of the request that caused the command; null when none did. */
  readonly requestId: string | null;
  readonly details: Readonly<Record<string, unknown>>;
}

/** Which entries of the trail: every filter set must hold (AND); an unset one does not filter. */
export interface AuditFilter {
  /**
   * Whole operations that concern the user: every entry of each operation (correlation id) that
   * has an entry naming the user, so an Attempted that did not know the user yet comes along.
   */
  readonly userId?: string;
  /** Entries whose actor is this user or admin (not whole operations: the actor is known from the Attempted on). */
  readonly actorId?: string;
  /** Every entry of one operation. */
  readonly correlationId?: string;
  readonly action?: AuditAction;
  readonly outcome?: AuditOutcome;
  /** The client address as recorded (canonical form, see canonicalIp). */
  readonly ipAddress?: string;
  readonly sessionId?: string;
  /** The entries of the commands one request caused (the X-Request-Id its log line shows). */
  readonly requestId?: string;
  /** occurredAt at or after this instant. */
  readonly from?: Date;
  /** occurredAt before this instant. */
  readonly to?: Date;
}

export interface AuditQuery extends AuditFilter {
  readonly limit: number;
  /** The eventId of the last entry of the previous page. */
  readonly before?: string;
}

export interface OutcomeCounts {
  readonly succeeded: number;
  readonly failed: number;
}

export interface AuditPage {
  readonly entries: AuditEntry[];
  readonly nextCursor: string | null;
}

export interface UnfinishedQuery {
  readonly attemptedAfter: Date;
  readonly attemptedBefore: Date;
  /** Operations of this process instance are left alone: they may still be running. */
  readonly excludeInstance: string;
  /**
   * So are those of any instance whose last heartbeat is more recent than this (by the database's
   * clock): it is alive, and its command may be slow, not dead.
   */
  readonly instanceSilentForMs: number;
  readonly limit: number;
}

/**
 * The audit log refused the entries themselves (a value its columns cannot hold, a broken
 * constraint): writing the same entries again cannot succeed, while other entries may.
 */
export class AuditEntriesRejectedError extends Error {
  override readonly name = 'AuditEntriesRejectedError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A command's outcome could not be recorded because its operation already has one (a recovery
 * pass took its instance for dead and closed it as `interrupted`). Thrown inside the command's
 * transaction, so the change rolls back and the recorded outcome stays true; the client gets a
 * 503 and may retry.
 */
export class AuditOutcomeUnavailableError extends Error {
  override readonly name = 'AuditOutcomeUnavailableError';
  constructor(readonly correlationId: string) {
    super(`Operation ${correlationId} already has an outcome; its change is rolled back`);
  }
}

export interface AuditLog {
  /** Attempted entries that have no outcome entry. */
  findUnfinished(query: UnfinishedQuery): Promise<AuditEntry[]>;
  /**
   * Appends entries, all or none; an entry whose eventId is already recorded is left as it is.
   * Throws AuditEntriesRejectedError when the entries' data is refused, anything else when the
   * write could not be done (it may work later).
   */
  append(entries: readonly AuditEntry[]): Promise<void>;
  query(query: AuditQuery): Promise<AuditPage>;
  /** How many operations of this action succeeded and failed with an outcome at or after `since`. */
  countOutcomes(action: AuditAction, since: Date): Promise<OutcomeCounts>;
}
export const AUDIT_LOG = Symbol('AuditLog');

/** The audit trail, as a unit of work writes it with its change (`tx.audit`). */
export interface AuditLogWrites {
  /**
   * Writes audit entries with the change. A repeated Attempted is dropped; an outcome for an
   * operation that already has one throws AuditOutcomeUnavailableError (the change must roll back).
   */
  append(entries: readonly AuditEntry[]): Promise<void>;
}
