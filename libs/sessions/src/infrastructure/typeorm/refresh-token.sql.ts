import { schemaSql } from './schema-name';

/** $1 id, $2 session, $3 user, $4 token hash, $5 issued at, $6 expires at, $7 the token it replaced or null. */
export const insertRefreshTokenSql = schemaSql(
  (s) => `INSERT INTO ${s}.refresh_tokens (id, session_id, user_id, token_hash, issued_at, expires_at, parent_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
);

/**
 * Rotation's one statement: of two concurrent refreshes with one token, the second finds it revoked.
 * The session row is locked before the token row, the order every revocation uses, so a refresh
 * racing a logout or a revoke-all waits for it instead of deadlocking with it. $1 token hash, $2 now,
 * $3 ip address, $4 user agent. Returns the token rotated away.
 */
export const consumeRefreshTokenSql = schemaSql(
  (s) => `WITH target AS (
         SELECT session_id FROM ${s}.refresh_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2),
       touched AS (
         UPDATE ${s}.sessions s SET last_seen_at = $2, ip_address = COALESCE($3, s.ip_address), user_agent = COALESCE($4, s.user_agent)
          WHERE s.id IN (SELECT session_id FROM target) AND s.revoked_at IS NULL AND s.expires_at > $2
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
              t.rotated_at, t.rotated_ip_address, t.rotated_user_agent,
              EXISTS (SELECT 1 FROM ${s}.refresh_tokens c WHERE c.parent_id = t.id AND c.revoked_at IS NULL) AS has_live_child
         FROM ${s}.refresh_tokens t JOIN ${s}.sessions s ON s.id = t.session_id
        WHERE t.token_hash = $1`,
);
