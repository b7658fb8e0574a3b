import { EntityManager } from 'typeorm';
import { AuditEntry, AuditOutcomeUnavailableError } from '../../application/ports/audit-log.port';

const COLUMNS = 13;

/** The unique index that holds one outcome per operation. */
const ONE_OUTCOME_INDEX = 'audit_entries_one_outcome_key';

/**
 * How a second outcome for one operation is met. `skip` (entries written after the fact: an
 * Attempted, a Failed) drops it, recording is idempotent. `refuse` (a Succeeded written in the
 * transaction of its change) throws AuditOutcomeUnavailableError, so the change rolls back
 * rather than commit under someone else's outcome; a repeated Attempted is still dropped.
 */
export type DuplicateOutcome = 'skip' | 'refuse';

/**
 * Inserts audit entries in one statement. An entry already recorded (same event id), or a
 * second Attempted for one operation, is dropped; a second outcome as `duplicateOutcome` says.
 */
export async function insertAuditEntries(manager: EntityManager, entries: readonly AuditEntry[], duplicateOutcome: DuplicateOutcome = 'skip'): Promise<void> {
  if (entries.length === 0) return;
  const params: unknown[] = [];
  const tuples = entries.map((entry, index) => {
    params.push(
      entry.eventId,
      entry.correlationId,
      entry.action,
      entry.outcome,
      entry.occurredAt,
      entry.userId,
      entry.actorType,
      entry.actorId,
      entry.sessionId,
      entry.reason,
      entry.ipAddress,
      entry.userAgent,
      JSON.stringify(entry.details),
    );
    const base = index * COLUMNS;
    return `(${Array.from({ length: COLUMNS }, (_, i) => `$${base + i + 1}`).join(', ')})`;
  });
  const onConflict = duplicateOutcome === 'skip' ? 'ON CONFLICT DO NOTHING' : `ON CONFLICT (correlation_id) WHERE outcome = 'attempted' DO NOTHING`;
  try {
    await manager.query(
      `INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, user_id, actor_type, actor_id, session_id, reason, ip_address, user_agent, details)
       VALUES ${tuples.join(', ')}
       ${onConflict}`,
      params,
    );
  } catch (error) {
    const driverError = (error as { driverError?: { code?: string; constraint?: string; detail?: string } }).driverError;
    if (driverError?.code === '23505' && driverError.constraint === ONE_OUTCOME_INDEX) {
      const correlationId = /\(correlation_id\)=\(([0-9a-f-]+)\)/.exec(driverError.detail ?? '')?.[1] ?? entries.find((e) => e.outcome !== 'attempted')?.correlationId ?? 'unknown';
      throw new AuditOutcomeUnavailableError(correlationId);
    }
    throw error;
  }
}
