import { schemaSql } from './schema-name';
import { SEALED_ENTRY_COLUMNS } from './audit-seals.sql';

/** Creates the partitions of the database's current month and $1 more that are missing; one row per partition created. */
export const createPartitionsAheadSql = schemaSql((s) => `SELECT part AS name FROM ${s}.audit_entries_create_partitions(now(), $1 + 1) part`);

/** The partitions of audit_entries, by name (which sorts by month). */
export const listPartitionsSql = schemaSql(
  (s) => `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = '${s}.audit_entries'::regclass ORDER BY c.relname`,
);

/** The retention's lock: one instance exports and drops at a time. */
export const TRY_RETENTION_LOCK_SQL = 'SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked';
export const retentionLockName = (schema: string) => `${schema}.audit_retention`;

/**
 * A page of the entries recorded in [$1, $2) after ($3, $4) in seal order (recorded_at, event_id),
 * at most $5, every column (timestamps as canonical text). $3 null: from the start.
 */
export const exportEntriesPageSql = schemaSql(
  (s) => `SELECT ${SEALED_ENTRY_COLUMNS} FROM ${s}.audit_entries e
   WHERE e.recorded_at >= $1::timestamptz AND e.recorded_at < $2::timestamptz
     AND ($3::timestamptz IS NULL OR (e.recorded_at, e.event_id) > ($3::timestamptz, $4::uuid))
   ORDER BY e.recorded_at, e.event_id LIMIT $5`,
);

/** The drop, with the export's manifest digest and counts: the function checks them all again. */
export const dropExpiredPartitionSql = schemaSql((s) => `SELECT ${s}.audit_drop_expired_partition($1, $2, $3, $4, $5, $6)`);

/** Deletes up to $1 keys of dropped partitions; how many. */
export const releaseDroppedKeysSql = schemaSql((s) => `SELECT ${s}.audit_release_dropped_keys($1) AS released`);

/** `audit_entries_y2026m12` → its range, [2026-12-01, 2027-01-01) UTC; null for another name. */
export function partitionRange(name: string): { rangeStart: Date; rangeEnd: Date } | null {
  const match = /^audit_entries_y(\d{4})m(\d{2})$/.exec(name);
  if (!match) return null;
  const year = Number(match[1]);
  const month = Number(match[2]) - 1;
  return { rangeStart: new Date(Date.UTC(year, month, 1)), rangeEnd: new Date(Date.UTC(year, month + 1, 1)) };
}
