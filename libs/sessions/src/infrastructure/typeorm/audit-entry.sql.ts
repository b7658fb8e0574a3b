import { EntityManager } from 'typeorm';
import { AuditEntry, AuditOutcomeUnavailableError, AuditQuery, UnfinishedQuery } from '../../application/ports/audit-log.port';
import { quotedSchema, schemaSql } from './schema-name';
import { rowsOf } from './sql-rows';

const COLUMNS = 15;

/** An AuditEntry's fields, named as the entry names them (recorded_at stays in the table). */
const AUDIT_ENTRY = (alias: string) =>
  [
    `${alias}.event_id AS "eventId"`,
    `${alias}.correlation_id AS "correlationId"`,
    `${alias}.action`,
    `${alias}.outcome`,
    `${alias}.occurred_at AS "occurredAt"`,
    `${alias}.user_id AS "userId"`,
    `${alias}.actor_type AS "actorType"`,
    `${alias}.actor_id AS "actorId"`,
    `${alias}.actor_name AS "actorName"`,
    `${alias}.session_id AS "sessionId"`,
    `${alias}.reason`,
    `${alias}.ip_address AS "ipAddress"`,
    `${alias}.user_agent AS "userAgent"`,
    `${alias}.request_id AS "requestId"`,
    `${alias}.details`,
  ].join(', ');

/**
 * How a second outcome for one operation is met. `skip` (entries written after the fact: an
 * Attempted, a Failed) drops it, recording is idempotent. `refuse` (a Succeeded written in the
 * transaction of its change) throws AuditOutcomeUnavailableError, so the change rolls back
 * rather than commit under someone else's outcome; a repeated Attempted is still dropped.
 */
export type DuplicateOutcome = 'skip' | 'refuse';

/** The head of every audit insert; VALUES follow, 15 parameters a row in this column order. */
export const insertAuditEntriesIntoSql = schemaSql(
  (s) =>
    `INSERT INTO ${s}.audit_entries (event_id, correlation_id, action, outcome, occurred_at, user_id, actor_type, actor_id, actor_name, session_id, reason, ip_address, user_agent, request_id, details)`,
);

/**
 * Inserts audit entries in one statement. An entry already recorded (same event id), or a
 * second Attempted for one operation, is dropped; a second outcome as `duplicateOutcome` says.
 *
 * The dropping is the database's: audit_entries' claim trigger (migration 1764000001400) takes
 * each entry's row in audit_entry_keys, whose unique indexes hold one event id, one Attempted and
 * one outcome per correlation id across every partition, and drops the entry whose key is taken
 * (a unique index of a partitioned table must hold the partition key, so these cannot live on
 * audit_entries). `refuse` therefore counts what was inserted: an outcome dropped is one the
 * operation already has.
 */
export async function insertAuditEntries(
  manager: EntityManager,
  schema: string,
  entries: readonly AuditEntry[],
  duplicateOutcome: DuplicateOutcome = 'skip',
): Promise<void> {
  if (entries.length === 0) return;
  const insertInto = insertAuditEntriesIntoSql(schema);
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
          entry.requestId ?? null,
          JSON.stringify(entry.details),
        );
        return `(${Array.from({ length: COLUMNS }, (_, i) => `$${base + i + 1}`).join(', ')})`;
      })
      .join(', ');
  if (duplicateOutcome === 'skip') {
    await manager.query(`${insertInto} VALUES ${values(entries)}`, params);
    return;
  }
  // Attempted entries may already be there (the saga writes them too, perhaps at this very
  // moment): they are dropped quietly. Every outcome must be inserted, or the change is refused.
  const outcomes = entries.filter((entry) => entry.outcome !== 'attempted');
  const sql = `${insertInto} VALUES ${values(entries)} RETURNING event_id AS "eventId"`;
  const inserted = new Set((await rowsOf<{ eventId: string }>(manager, sql, params)).map((row) => row.eventId.toLowerCase()));
  const dropped = outcomes.find((entry) => !inserted.has(entry.eventId.toLowerCase()));
  if (dropped) throw new AuditOutcomeUnavailableError(dropped.correlationId);
}

/**
 * Attempted entries with no outcome, occurred in [$1, $2), not of instance $3 nor of any instance
 * that beat within $4 seconds, oldest first, at most $5.
 */
export const selectUnfinishedAuditEntriesSql = schemaSql(
  (s) => `SELECT ${AUDIT_ENTRY('a')} FROM ${s}.audit_entries a
   WHERE a.outcome = 'attempted' AND a.occurred_at >= $1 AND a.occurred_at < $2
     AND COALESCE(a.details->>'instance', '') <> $3
     AND NOT EXISTS (SELECT 1 FROM ${s}.instances i WHERE i.id::text = a.details->>'instance' AND i.last_heartbeat_at >= now() - make_interval(secs => $4))
     AND NOT EXISTS (SELECT 1 FROM ${s}.audit_entries o WHERE o.correlation_id = a.correlation_id AND o.outcome <> 'attempted')
   ORDER BY a.occurred_at ASC LIMIT $5`,
);

export function unfinishedAuditParameters(query: UnfinishedQuery): unknown[] {
  return [query.attemptedAfter, query.attemptedBefore, query.excludeInstance, query.instanceSilentForMs / 1000, query.limit];
}

/**
 * A page of the trail, newest first, one entry more than asked (to tell whether a next page
 * exists), with only the filters the query sets. Which index serves each filter:
 * test/integration/audit-query-plan.int-spec.ts and migration 1764000001100.
 */
export function auditPageSql(schema: string, query: AuditQuery): { sql: string; parameters: unknown[] } {
  const s = quotedSchema(schema);
  const parameters: unknown[] = [];
  const where: string[] = [];
  const param = (value: unknown) => `$${parameters.push(value)}`;
  const userId = query.userId ? param(query.userId) : null;
  if (query.actorId) where.push(`a.actor_id = ${param(query.actorId)}`);
  if (query.correlationId) where.push(`a.correlation_id = ${param(query.correlationId)}`);
  if (query.action) where.push(`a.action = ${param(query.action)}`);
  if (query.outcome) where.push(`a.outcome = ${param(query.outcome)}`);
  if (query.ipAddress) where.push(`a.ip_address = ${param(query.ipAddress)}`);
  if (query.sessionId) where.push(`a.session_id = ${param(query.sessionId)}`);
  // Every entry of an operation carries the request id of its command: no need to widen to whole operations.
  if (query.requestId) where.push(`a.request_id = ${param(query.requestId)}`);
  if (query.from) where.push(`a.occurred_at >= ${param(query.from)}`);
  if (query.to) where.push(`a.occurred_at < ${param(query.to)}`);
  const before = query.before ? param(query.before) : null;
  const limit = param(query.limit + 1);
  if (userId) return { sql: userAuditPageSql(s, { userId, before, limit, where }), parameters };
  if (before) where.push(`a.event_id < ${before}`);
  const sql =
    `SELECT ${AUDIT_ENTRY('a')} FROM ${s}.audit_entries a` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY a.event_id DESC LIMIT ${limit}`;
  return { sql, parameters };
}

/**
 * By user: whole operations, since a register, login or refresh learns its user only at its
 * outcome (its Attempted has no user_id). The entries that name the user come from
 * audit_entries_user_idx, one range per monthly partition; those of the user's operations that do
 * not name the user from audit_user_entries (migration 1764000001600, written by the claim trigger),
 * each read by its primary key (event_id, recorded_at) in the one partition recorded_at names. Both
 * ranges are read newest first and merged, and the merge stops at the page: a page costs its own
 * size, whatever the user's trail or the whole trail holds (bench:scale). A link to an entry that
 * names the user after all (links built for rows older than the migration may) is left out, the
 * entry coming from the first range.
 */
function userAuditPageSql(s: string, p: { userId: string; before: string | null; limit: string; where: readonly string[] }): string {
  // The cursor on each range's own index column, so that a deep page starts where it begins.
  const named = [`a.user_id = ${p.userId}`, p.before ? `a.event_id < ${p.before}` : null, ...p.where].filter(Boolean);
  const linked = [`l.user_id = ${p.userId}`, p.before ? `l.event_id < ${p.before}` : null, `a.user_id IS DISTINCT FROM ${p.userId}`, ...p.where].filter(
    Boolean,
  );
  // Each range cut to the page on its own, so that each is read newest first from its index and
  // stops there, whatever the planner would make of one sort over both; the LIMIT 1 keeps each
  // link's entry a primary-key lookup (a subquery with a LIMIT is not merged into a join, which
  // the planner may hash over the whole trail).
  return (
    `SELECT ${AUDIT_ENTRY('page')} FROM (` +
    `(SELECT a.* FROM ${s}.audit_entries a WHERE ${named.join(' AND ')} ORDER BY a.event_id DESC LIMIT ${p.limit})` +
    ` UNION ALL (SELECT a.* FROM ${s}.audit_user_entries l` +
    ` CROSS JOIN LATERAL (SELECT * FROM ${s}.audit_entries e WHERE e.event_id = l.event_id AND e.recorded_at = l.recorded_at LIMIT 1) a` +
    ` WHERE ${linked.join(' AND ')} ORDER BY l.event_id DESC LIMIT ${p.limit})` +
    `) page ORDER BY page.event_id DESC LIMIT ${p.limit}`
  );
}
