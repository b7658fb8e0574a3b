import { SEALED_COLUMNS } from '../../application/audit-seals/sealed-entry';
import { schemaSql } from './schema-name';

/**
 * A timestamptz as the seal's canonical text (canonicalTimestamp): UTC, six fraction digits,
 * whatever the connection's TimeZone and DateStyle. Read as text because the driver's Date keeps
 * milliseconds and recorded_at, the database's now(), has microseconds.
 */
export const canonicalTimestampSql = (expression: string) => `to_char((${expression}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The sealer's transaction-level advisory lock, one per schema: one sealer at a time per trail. */
export const TRY_SEAL_LOCK_SQL = 'SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked';
export const sealLockName = (schema: string) => `${schema}.audit_seals`;

/** The database's now() less $1 seconds: entries recorded before it are settled (committed or never will be). */
export const SETTLED_BEFORE_SQL = `SELECT ${canonicalTimestampSql('now() - make_interval(secs => $1)')} AS "settledBefore"`;

/** The newest seal's end and hash: where the next seal starts and what it chains to. */
export const lastSealSql = schemaSql(
  (s) => `SELECT ${canonicalTimestampSql('range_end')} AS "rangeEnd", seal_hash AS "sealHash" FROM ${s}.audit_seals ORDER BY id DESC LIMIT 1`,
);

/** Where the first seal of a trail starts: the UTC day of the oldest settled entry (null when none). */
export const firstSealStartSql = schemaSql(
  (s) => `SELECT ${canonicalTimestampSql(`date_trunc('day', min(recorded_at), 'UTC')`)} AS "rangeStart" FROM ${s}.audit_entries WHERE recorded_at < $1`,
);

/**
 * Where a seal starting at $1 ends, given the settled bound $2 and at most $3 entries: never past
 * the settled bound nor the next UTC midnight (so a seal never spans two days, and partitions by
 * day or month hold whole seals), and before the ($3+1)-th entry of the range. When that entry
 * shares its timestamp with the range's first (more than $3 entries of one transaction's batch),
 * the seal takes every entry of that timestamp and ends at the next later one. `closesDay`: the
 * seal ends at midnight (an empty range is sealed only then: a quiet day costs one seal, not one
 * a round). Null when no time is left ($1 >= $2).
 */
export const sealEndSql = schemaSql(
  (s) => `WITH bound AS (
     SELECT least($2::timestamptz, date_trunc('day', $1::timestamptz, 'UTC') + interval '1 day') AS until,
            date_trunc('day', $1::timestamptz, 'UTC') + interval '1 day' AS midnight
   ), first_entry AS (
     SELECT min(e.recorded_at) AS at FROM ${s}.audit_entries e, bound WHERE e.recorded_at >= $1::timestamptz AND e.recorded_at < bound.until
   ), capped AS (
     SELECT e.recorded_at AS at FROM ${s}.audit_entries e, bound
      WHERE e.recorded_at >= $1::timestamptz AND e.recorded_at < bound.until
      ORDER BY e.recorded_at OFFSET $3 LIMIT 1
   ), after_ties AS (
     SELECT min(e.recorded_at) AS at FROM ${s}.audit_entries e, bound, capped
      WHERE e.recorded_at > capped.at AND e.recorded_at < bound.until
   ), chosen AS (
     SELECT bound.midnight, CASE
       WHEN $1::timestamptz >= bound.until THEN NULL
       WHEN capped.at IS NULL THEN bound.until
       WHEN capped.at > first_entry.at THEN capped.at
       ELSE coalesce(after_ties.at, bound.until)
     END AS range_end
     FROM bound, first_entry LEFT JOIN capped ON true LEFT JOIN after_ties ON true
   )
   SELECT ${canonicalTimestampSql('range_end')} AS "rangeEnd", range_end = midnight AS "closesDay" FROM chosen`,
);

/** Every column of an entry, named as SealedEntry names it, timestamps as canonical text. */
export const SEALED_ENTRY_COLUMNS = SEALED_COLUMNS.map((column) => {
  const field = column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
  const value = column === 'occurred_at' || column === 'recorded_at' ? canonicalTimestampSql(`e.${column}`) : `e.${column}`;
  return `${value} AS "${field}"`;
}).join(', ');

/** The entries recorded in [$1, $2), in seal order. */
export const entriesInRangeSql = schemaSql(
  (s) =>
    `SELECT ${SEALED_ENTRY_COLUMNS} FROM ${s}.audit_entries e WHERE e.recorded_at >= $1::timestamptz AND e.recorded_at < $2::timestamptz ORDER BY e.recorded_at, e.event_id`,
);

/** The entries recorded before the trail's first seal began ($1): none, unless inserted since. */
export const entriesBeforeSql = schemaSql(
  (s) => `SELECT e.event_id AS "eventId" FROM ${s}.audit_entries e WHERE e.recorded_at < $1::timestamptz ORDER BY e.recorded_at, e.event_id LIMIT 1`,
);

export const insertSealSql = schemaSql(
  (s) => `INSERT INTO ${s}.audit_seals (format, range_start, range_end, entry_count, entries_digest, entry_hashes, previous_seal_hash, seal_hash)
   VALUES ($1, $2::timestamptz, $3::timestamptz, $4, $5, $6, $7, $8) RETURNING id::text AS id`,
);

const SEAL_COLUMNS = `seal.id::text AS id, format, ${canonicalTimestampSql('range_start')} AS "rangeStart", ${canonicalTimestampSql('range_end')} AS "rangeEnd",
  entry_count AS "entryCount", entries_digest AS "entriesDigest", entry_hashes AS leaves, previous_seal_hash AS "previousSealHash", seal_hash AS "sealHash"`;

/**
 * A page of the seals whose range meets [$1, $2) (null: unbounded), after seal id $3, in chain
 * order, at most $4 (each carries its leaf list: up to 48 bytes an entry).
 */
export const sealsPageSql = schemaSql(
  // ORDER BY the table's id: a bare "id" would name the output column, id::text, and sort 10 before 2.
  (s) => `SELECT ${SEAL_COLUMNS} FROM ${s}.audit_seals seal
   WHERE ($1::timestamptz IS NULL OR seal.range_end > $1::timestamptz) AND ($2::timestamptz IS NULL OR seal.range_start < $2::timestamptz) AND seal.id > $3::bigint
   ORDER BY seal.id LIMIT $4`,
);

/** The seal just before seal $1 in the chain (its hash and end, for the link), if any. */
export const sealBeforeSql = schemaSql(
  (s) =>
    `SELECT ${canonicalTimestampSql('range_end')} AS "rangeEnd", seal_hash AS "sealHash" FROM ${s}.audit_seals WHERE id < $1::bigint ORDER BY id DESC LIMIT 1`,
);

/**
 * Where the partitions dropped by retention end (null when none was): the seals before it are
 * checked as a chain only, their entries are in the exports (audit_exports has their digests).
 */
export const exportedThroughSql = schemaSql((s) => `SELECT ${canonicalTimestampSql('max(range_end)')} AS "exportedThrough" FROM ${s}.audit_exports`);
