import { schemaSql } from './schema-name';

/** The channel the outbox notifies on commit (TypeOrmCacheMarkerOutbox.enqueue); the payload is the namespace (see CacheMarkerListener). */
export const CACHE_MARKER_CHANNEL = 'cache_marker_outbox';

/**
 * Queues one marker per (namespace, session) in one statement: for every cache namespace seen
 * within $1 seconds and for $2 (the revoker's own, always). $3 user, $4 session ids, $5 the
 * queuing outbox's origin id. The namespace list is read in the same statement, and its ACCESS
 * SHARE lock on cache_namespaces lasts until commit: a namespace registering meanwhile waits for
 * the revocation (lockCacheNamespacesSql), so it either is listed or sees the revocation.
 * Each namespace is notified on commit with `{"namespace", "origin"}` (see CacheMarkerListener:
 * the revoker, which writes its own markers after the commit, ignores its own notifications).
 * One row per namespace queued for.
 */
export const enqueueCacheMarkersSql = schemaSql(
  (s) => `WITH targets AS (
    SELECT namespace FROM ${s}.cache_namespaces WHERE last_seen_at > now() - $1::int * interval '1 second'
    UNION SELECT $2::text),
  queued AS (
    INSERT INTO ${s}.cache_marker_outbox (namespace, user_id, session_id)
    SELECT t.namespace, $3, x FROM targets t CROSS JOIN unnest($4::uuid[]) x
    RETURNING namespace)
  SELECT pg_notify('${CACHE_MARKER_CHANNEL}', json_build_object('namespace', namespace, 'origin', $5::text)::text)
    FROM (SELECT DISTINCT namespace FROM queued) q`,
);

/** Up to $2 markers queued for namespace $1, oldest first, locked; other drains skip them. */
export const selectQueuedCacheMarkersSql = schemaSql(
  (s) => `SELECT id, user_id, session_id FROM ${s}.cache_marker_outbox WHERE namespace = $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
);

/** $1 the ids of markers written. */
export const deleteCacheMarkersSql = schemaSql((s) => `DELETE FROM ${s}.cache_marker_outbox WHERE id = ANY($1::bigint[])`);

/** Markers older than $1 seconds: every marker outlives the access tokens it guards by then. */
export const deleteStaleCacheMarkersSql = schemaSql((s) => `DELETE FROM ${s}.cache_marker_outbox WHERE created_at < now() - $1::int * interval '1 second'`);

/** $1 namespace, $2 seconds: marks a namespace seen if it was live, returning it then. */
export const touchLiveCacheNamespaceSql = schemaSql(
  (s) =>
    `UPDATE ${s}.cache_namespaces SET last_seen_at = now() WHERE namespace = $1 AND last_seen_at > now() - $2::int * interval '1 second' RETURNING namespace`,
);

/** Waits for every open revocation that listed the namespaces without the one registering now. */
export const lockCacheNamespacesSql = schemaSql((s) => `LOCK TABLE ${s}.cache_namespaces IN ACCESS EXCLUSIVE MODE`);

/** $1 namespace. */
export const upsertCacheNamespaceSql = schemaSql(
  (s) => `INSERT INTO ${s}.cache_namespaces (namespace, last_seen_at) VALUES ($1, now()) ON CONFLICT (namespace) DO UPDATE SET last_seen_at = now()`,
);

/** Namespaces not seen for $1 seconds (one per process for in-memory caches) are forgotten. */
export const deleteGoneCacheNamespacesSql = schemaSql((s) => `DELETE FROM ${s}.cache_namespaces WHERE last_seen_at < now() - $1::int * interval '1 second'`);

/** Markers queued and not yet written, every namespace; an estimate would do, but the table stays small. */
export const countQueuedCacheMarkersSql = schemaSql((s) => `SELECT count(*)::int AS depth FROM ${s}.cache_marker_outbox`);
