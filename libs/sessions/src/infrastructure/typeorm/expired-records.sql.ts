import { schemaSql } from './schema-name';

/**
 * The purge's lock, per schema (two deployments in one database purge each their own), for the
 * transaction: it ends with it, so it cannot leak into the pool, and it works behind PgBouncer's
 * transaction pooling, where a session-level lock would be taken on one server connection and
 * released on another. $1 the lock's name.
 */
export const tryLockPurgeSql = `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked`;

/** $1 cutoff: whether a session expired, or a lockout was cleared or ended, before it. */
export const anyExpiredSql = schemaSql(
  (s) => `SELECT EXISTS (SELECT 1 FROM ${s}.sessions WHERE expires_at < $1)
              OR EXISTS (SELECT 1 FROM ${s}.login_lockouts WHERE locked_until < $1 OR cleared_at < $1) AS any`,
);

/**
 * Up to $2 refresh tokens of sessions expired before $1, from the session ($3 expiry, $4 id) on,
 * oldest sessions first (sessions_expiry_idx, then refresh_tokens_session_idx). A session can hold
 * a token per refresh of its life (thousands, for a client that refreshes all month), so tokens
 * go in batches of their own before their sessions do: no statement deletes more than $2 rows.
 * Tokens locked by someone else are skipped (the session's batch takes them). Returns how many
 * went and the session of the last one, where the next batch starts.
 */
export const deleteTokensOfExpiredSessionsSql = schemaSql(
  (s) => `WITH doomed AS (
         SELECT t.id, s.expires_at, s.id AS session_id
           FROM ${s}.sessions s JOIN ${s}.refresh_tokens t ON t.session_id = s.id
          WHERE s.expires_at < $1 AND s.expires_at >= $3 AND (s.expires_at, s.id) >= ($3, $4::uuid)
          ORDER BY s.expires_at, s.id
          LIMIT $2
            FOR UPDATE OF t SKIP LOCKED),
       gone AS (DELETE FROM ${s}.refresh_tokens WHERE id = ANY (ARRAY(SELECT id FROM doomed)) RETURNING 1)
       SELECT (SELECT count(*) FROM gone)::int AS deleted, last.expires_at AS "expiresAt", last.session_id AS "sessionId"
         FROM (SELECT 1) one
         LEFT JOIN LATERAL (SELECT expires_at, session_id FROM doomed ORDER BY expires_at DESC, session_id DESC LIMIT 1) last ON true`,
);

/**
 * Up to $2 sessions expired before $1, oldest first (sessions_expiry_idx), each locked without
 * waiting (SKIP LOCKED: a session someone is revoking is left for the next run), with the tokens
 * they still have. The session row is locked before its tokens, the order every revocation uses.
 * refresh_tokens.session_id is ON DELETE CASCADE, but the tokens are deleted here by name so that
 * they are counted (the CASCADE then finds none). `= ANY (ARRAY(...))`, not `IN (SELECT ...)`: the
 * planner may hash-join an IN against the whole table; an array of ids is probed by primary key.
 */
export const deleteExpiredSessionsSql = schemaSql(
  (s) => `WITH doomed AS (
         SELECT id FROM ${s}.sessions WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED),
       tokens AS (DELETE FROM ${s}.refresh_tokens WHERE session_id = ANY (ARRAY(SELECT id FROM doomed)) RETURNING 1),
       gone AS (DELETE FROM ${s}.sessions WHERE id = ANY (ARRAY(SELECT id FROM doomed)) RETURNING 1)
       SELECT (SELECT count(*) FROM gone)::int AS sessions, (SELECT count(*) FROM tokens)::int AS "refreshTokens"`,
);

/**
 * Up to $2 login lockouts cleared, or ended, before $1. A lockout row is written only when a lock
 * engages, so the table stays small next to sessions: no index of its own for this (a seq scan
 * of it per batch), the uncleared ones by login_lockouts_uncleared_idx when the planner prefers.
 */
export const deleteStaleLockoutsSql = schemaSql(
  (s) => `DELETE FROM ${s}.login_lockouts
        WHERE (email, network) IN (
          SELECT email, network FROM ${s}.login_lockouts WHERE locked_until < $1 OR cleared_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
);
