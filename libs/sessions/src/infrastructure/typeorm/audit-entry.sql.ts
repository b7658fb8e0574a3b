import { EntityManager } from 'typeorm';
import { AuditEntry } from '../../application/ports/audit-log.port';

const COLUMNS = 13;

/**
 * Inserts audit entries in one statement. An entry already recorded (same event id), or a
 * second Attempted or a second outcome for one operation, is dropped: recording is idempotent.
 */
export async function insertAuditEntries(manager: EntityManager, entries: readonly AuditEntry[]): Promise<void> {
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
  await manager.query(
    `INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, user_id, actor_type, actor_id, session_id, reason, ip_address, user_agent, details)
     VALUES ${tuples.join(', ')}
     ON CONFLICT DO NOTHING`,
    params,
  );
}
