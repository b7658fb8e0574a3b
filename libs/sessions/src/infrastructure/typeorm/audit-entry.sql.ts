import { EntityManager } from 'typeorm';
import { AuditEntry, AuditOutcomeUnavailableError } from '../../application/ports/audit-log.port';

const COLUMNS = 14;

/** The unique index that holds one outcome per operation. */
const ONE_OUTCOME_INDEX = 'audit_entries_one_outcome_key';

/**
 * How a second outcome for one operation is met. `skip` (entries written after the fact: an
 * Attempted, a Failed) drops it, recording is idempotent. `refuse` (a Succeeded written in the
 * transaction of its change) throws AuditOutcomeUnavailableError, so the change rolls back
 * rather than commit under someone else's outcome; a repeated Attempted is still dropped.
 */
export type DuplicateOutcome = 'skip' | 'refuse';

const INSERT_INTO = `INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, user_id, actor_type, actor_id, actor_name, session_id, reason, ip_address, user_agent, details)`;

/**
 * Inserts audit entries in one statement. An entry already recorded (same event id), or a
 * second Attempted for one operation, is dropped; a second outcome as `duplicateOutcome` says.
 */
export async function insertAuditEntries(manager: EntityManager, entries: readonly AuditEntry[], duplicateOutcome: DuplicateOutcome = 'skip'): Promise<void> {
  if (entries.length === 0) return;
  const params: unknown[] = [];
  const values = (subset: readonly AuditEntry[]) =>
    subset
      .map((entry) => {
        const base = params.length;
        params.push(
          entry.eventId,
          entry.correlationId,
          entry.action,
          entry.outcome,
          entry.occurredAt,
          entry.userId,
          entry.actorType,
          entry.actorId,
          entry.actorName ?? null,
          entry.sessionId,
          entry.reason,
          entry.ipAddress,
          entry.userAgent,
          JSON.stringify(entry.details),
        );
        return `(${Array.from({ length: COLUMNS }, (_, i) => `$${base + i + 1}`).join(', ')})`;
      })
      .join(', ');
  if (duplicateOutcome === 'skip') {
    await manager.query(`${INSERT_INTO} VALUES ${values(entries)} ON CONFLICT DO NOTHING`, params);
    return;
  }
  // Attempted entries may already be there (the saga writes them too, perhaps at this very
  // moment): any conflict drops them. Outcomes take no ON CONFLICT at all, so a second outcome
  // for the operation is an error. Two inserts in one statement: one round trip.
  const attempted = entries.filter((entry) => entry.outcome === 'attempted');
  const outcomes = entries.filter((entry) => entry.outcome !== 'attempted');
  const attemptedInsert = attempted.length > 0 ? `${INSERT_INTO} VALUES ${values(attempted)} ON CONFLICT DO NOTHING` : '';
  const outcomeInsert = outcomes.length > 0 ? `${INSERT_INTO} VALUES ${values(outcomes)}` : '';
  const sql = attemptedInsert && outcomeInsert ? `WITH attempted AS (${attemptedInsert}) ${outcomeInsert}` : attemptedInsert || outcomeInsert;
  try {
    await manager.query(sql, params);
  } catch (error) {
    const driverError = (error as { driverError?: { code?: string; constraint?: string; detail?: string } }).driverError;
    if (driverError?.code === '23505' && driverError.constraint === ONE_OUTCOME_INDEX) {
      const correlationId = /\(correlation_id\)=\(([0-9a-f-]+)\)/.exec(driverError.detail ?? '')?.[1] ?? outcomes[0]?.correlationId ?? 'unknown';
      throw new AuditOutcomeUnavailableError(correlationId);
    }
    throw error;
  }
}
