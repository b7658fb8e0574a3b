import { schemaSql } from './schema-name';

/** A SessionRecord's fields, named as the record names them. */
const SESSION_RECORD =
  'id, user_id AS "userId", created_at AS "createdAt", last_seen_at AS "lastSeenAt", expires_at AS "expiresAt", ip_address AS "ipAddress", ' +
  'user_agent AS "userAgent", revoked_at AS "revokedAt", revoked_reason AS "revokedReason", revoked_by AS "revokedBy", kind, ' +
  'reauthenticated_at AS "reauthenticatedAt"';

/** $1 id, $2 user, $3 created at (also last seen), $4 expires at, $5 ip address, $6 user agent, $7 kind, $8 reauthenticated at or null. */
export const insertSessionSql = schemaSql(
  (s) =>
    `INSERT INTO ${s}.sessions (id, user_id, created_at, last_seen_at, expires_at, ip_address, user_agent, kind, reauthenticated_at) VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8)`,
);

/**
 * The console guard's check, on every request: the live console session whose unrevoked
 * refresh token has hash $1 at $2. Unique index on token_hash, then the session's primary key.
 */
export const selectConsoleSessionSql = schemaSql(
  (s) => `SELECT s.id AS "sessionId", s.user_id AS "userId", s.expires_at AS "expiresAt", s.reauthenticated_at AS "reauthenticatedAt"
         FROM ${s}.refresh_tokens t JOIN ${s}.sessions s ON s.id = t.session_id
        WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2
          AND s.kind = 'console' AND s.revoked_at IS NULL AND s.expires_at > $2`,
);

/** $1 user, $2 session, $3 when: records a reauthentication on a live session. */
export const markReauthenticatedSql = schemaSql(
  (s) => `UPDATE ${s}.sessions SET reauthenticated_at = $3
          WHERE id = $2 AND user_id = $1 AND revoked_at IS NULL AND expires_at > $3
         RETURNING id`,
);

/** $1 session, $2 now: whether the session is live (and now seen). */
export const touchActiveSessionSql = schemaSql(
  (s) => `UPDATE ${s}.sessions SET last_seen_at = $2 WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING id`,
);

/**
 * Logout's one statement: ends the session of a refresh token (live, or rotated away from a live
 * session) and all its tokens. $1 token hash, $2 the user it must belong to or null, $3 when,
 * $4 reason, $5 who (null: the session's user).
 */
export const revokeSessionByRefreshTokenSql = schemaSql(
  (s) => `WITH ended AS (
         UPDATE ${s}.sessions s SET revoked_at = $3, revoked_reason = $4, revoked_by = COALESCE($5, s.user_id)
           FROM ${s}.refresh_tokens t
          WHERE t.token_hash = $1 AND (t.revoked_at IS NULL OR t.rotated_at IS NOT NULL) AND s.id = t.session_id AND s.revoked_at IS NULL
            AND ($2::uuid IS NULL OR s.user_id = $2::uuid)
         RETURNING s.id, s.user_id),
       tokens AS (
         UPDATE ${s}.refresh_tokens SET revoked_at = $3
          WHERE session_id IN (SELECT id FROM ended) AND revoked_at IS NULL)
       SELECT id, user_id FROM ended`,
);

/**
 * Ends one live session and its tokens: $1 the user it must belong to or null, $2 session, $3 when,
 * $4 reason, $5 who. Returns the session's user.
 */
export const revokeSessionSql = schemaSql(
  (s) => `WITH ended AS (
         UPDATE ${s}.sessions SET revoked_at = $3, revoked_reason = $4, revoked_by = $5
          WHERE id = $2 AND ($1::uuid IS NULL OR user_id = $1::uuid) AND revoked_at IS NULL AND expires_at > $3
         RETURNING id, user_id),
       tokens AS (
         UPDATE ${s}.refresh_tokens SET revoked_at = $3
          WHERE session_id IN (SELECT id FROM ended) AND revoked_at IS NULL)
       SELECT user_id FROM ended`,
);

/**
 * Revoke-all's one statement: ends every live session of user $1 but $2 (or none), and their
 * tokens. $3 when, $4 reason, $5 who. Returns the ids ended.
 */
export const revokeAllSessionsSql = schemaSql(
  (s) => `WITH ended AS (
         UPDATE ${s}.sessions SET revoked_at = $3, revoked_reason = $4, revoked_by = $5
          WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $3
            AND ($2::uuid IS NULL OR id <> $2::uuid)
         RETURNING id),
       tokens AS (
         UPDATE ${s}.refresh_tokens SET revoked_at = $3
          WHERE user_id = $1 AND revoked_at IS NULL AND session_id IN (SELECT id FROM ended))
       SELECT id FROM ended`,
);

/** $1 session: what the session check needs. */
export const selectSessionStatusSql = schemaSql(
  (s) => `SELECT user_id AS "userId", expires_at AS "expiresAt", revoked_at AS "revokedAt" FROM ${s}.sessions WHERE id = $1`,
);

/** $1 session. */
export const selectSessionSql = schemaSql((s) => `SELECT ${SESSION_RECORD} FROM ${s}.sessions WHERE id = $1`);

/** $1 user: all its sessions, newest first. */
export const listSessionsSql = schemaSql((s) => `SELECT ${SESSION_RECORD} FROM ${s}.sessions WHERE user_id = $1 ORDER BY created_at DESC, id DESC`);

/** $1 user, $2 now: its live sessions, newest first. */
export const listActiveSessionsSql = schemaSql(
  (s) => `SELECT ${SESSION_RECORD} FROM ${s}.sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id DESC`,
);

/**
 * The session cap's count: the live web sessions of user $1 at $2 (console sessions are not
 * counted), oldest first (created_at, then id), locked: an eviction then finds them still live,
 * and a logout or refresh of one of them waits for the login's commit. Sessions before tokens, the
 * order every revocation uses; the login holds the user row already (see lockVerifiedCredentials).
 * Served by sessions_user_active_idx.
 */
export const lockLiveWebSessionsSql = schemaSql(
  (s) => `SELECT id FROM ${s}.sessions
          WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND kind = 'app'
          ORDER BY created_at, id FOR UPDATE`,
);

/** The addresses a user ($1) signed in from (sessions created since $2, revoked or not), newest first, at most 100. */
export const sessionAddressesSinceSql = schemaSql(
  (s) => `
  SELECT ip_address FROM ${s}.sessions
  WHERE user_id = $1 AND created_at >= $2 AND ip_address IS NOT NULL
  GROUP BY ip_address ORDER BY max(created_at) DESC LIMIT 100`,
);

/** $1 id, $2 session, $3 user, $4 token hash, $5 issued at, $6 expires at, $7 the token it replaced or null. */
export const insertRefreshTokenSql = schemaSql(
  (s) => `INSERT INTO ${s}.refresh_tokens (id, session_id, user_id, token_hash, issued_at, expires_at, parent_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
);

/**
 * Rotation's one statement: of two concurrent refreshes with one token, the second finds it revoked.
 * A console session's token is never rotated (it is the console's cookie, not the web API's).
 * The session row is locked before the token row, the order every revocation uses, so a refresh
 * racing a logout or a revoke-all waits for it instead of deadlocking with it. $1 token hash, $2 now,
 * $3 ip address, $4 user agent. Returns the token rotated away.
 */
export const consumeRefreshTokenSql = schemaSql(
  (s) => `WITH target AS (
         SELECT session_id FROM ${s}.refresh_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2),
       touched AS (
         UPDATE ${s}.sessions s SET last_seen_at = $2, ip_address = COALESCE($3, s.ip_address), user_agent = COALESCE($4, s.user_agent)
          WHERE s.id IN (SELECT session_id FROM target) AND s.revoked_at IS NULL AND s.expires_at > $2 AND s.kind = 'app'
         RETURNING s.id)
       UPDATE ${s}.refresh_tokens t SET revoked_at = $2, rotated_at = $2, rotated_ip_address = $3, rotated_user_agent = $4
        WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND t.session_id IN (SELECT id FROM touched)
       RETURNING t.id, t.session_id, t.user_id`,
);

/** Rotates away every live token of session $1 (a grace replay): $2 now, $3 ip address, $4 user agent. */
export const retireLiveRefreshTokensSql = schemaSql(
  (s) => `UPDATE ${s}.refresh_tokens SET revoked_at = $2, rotated_at = $2, rotated_ip_address = $3, rotated_user_agent = $4
        WHERE session_id = $1 AND revoked_at IS NULL
       RETURNING id`,
);

/** What is known about the token with hash $1 and its session, to name why it could not be used. */
export const describeRefreshTokenSql = schemaSql(
  (s) => `SELECT t.id, t.session_id, t.user_id, t.expires_at, t.revoked_at, s.revoked_at AS session_revoked_at, s.expires_at AS session_expires_at,
              t.rotated_at, t.rotated_ip_address, t.rotated_user_agent, s.kind AS session_kind,
              EXISTS (SELECT 1 FROM ${s}.refresh_tokens c WHERE c.parent_id = t.id AND c.revoked_at IS NULL) AS has_live_child
         FROM ${s}.refresh_tokens t JOIN ${s}.sessions s ON s.id = t.session_id
        WHERE t.token_hash = $1`,
);

/**
 * $1 user ids, $2 now: for each, in the order given, when its newest session was opened and how
 * many of its sessions live, one index probe each (sessions_user_idx, sessions_user_active_idx).
 */
export const sessionActivitySql = schemaSql(
  (s) => `SELECT u.id AS "userId", newest.created_at AS "lastLoginAt", live.count AS "activeSessions"
         FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, position)
         LEFT JOIN LATERAL (SELECT created_at FROM ${s}.sessions WHERE user_id = u.id ORDER BY created_at DESC LIMIT 1) newest ON true
         CROSS JOIN LATERAL (
           SELECT count(*)::int AS count FROM ${s}.sessions WHERE user_id = u.id AND revoked_at IS NULL AND expires_at > $2) live
        ORDER BY u.position`,
);

/** $1 now: every live session (sessions_live_expiry_idx). */
export const countActiveSessionsSql = schemaSql((s) => `SELECT count(*)::int AS count FROM ${s}.sessions WHERE revoked_at IS NULL AND expires_at > $1`);

/** $1 since: sessions revoked at or after it (sessions_revoked_at_idx). */
export const countSessionsRevokedSinceSql = schemaSql((s) => `SELECT count(*)::int AS count FROM ${s}.sessions WHERE revoked_at >= $1`);
