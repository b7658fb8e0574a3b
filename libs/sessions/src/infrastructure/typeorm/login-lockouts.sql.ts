import { schemaSql } from './schema-name';

/**
 * $1 email, $2 network, $3 user or null, $4 failed attempts, $5 locked at, $6 locked until: the
 * lock this failure engaged, replacing the pair's earlier one (cleared or expired).
 */
export const upsertLoginLockoutSql = schemaSql(
  (s) => `INSERT INTO ${s}.login_lockouts (email, network, user_id, failed_attempts, locked_at, locked_until) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (email, network) DO UPDATE
          SET user_id = EXCLUDED.user_id, failed_attempts = EXCLUDED.failed_attempts, locked_at = EXCLUDED.locked_at,
              locked_until = EXCLUDED.locked_until, cleared_at = NULL, cleared_by = NULL`,
);

/** $1 email: its locks not cleared, expired ones too. */
export const selectUnclearedLoginLockoutsSql = schemaSql(
  (s) => `SELECT network, locked_until AS "lockedUntil" FROM ${s}.login_lockouts WHERE email = $1 AND cleared_at IS NULL ORDER BY network`,
);

/**
 * $1 now, $2 limit: the locks in force, latest end first, each with the account its email has
 * now (null for an email no account has), and how many there are in all.
 */
export const selectCurrentLoginLockoutsSql = schemaSql(
  (s) => `SELECT u.id AS "userId", l.email, l.locked_until AS "lockedUntil", count(*) OVER () AS total
         FROM ${s}.login_lockouts l LEFT JOIN ${s}.users u ON u.email = l.email
        WHERE l.cleared_at IS NULL AND l.locked_until > $1
        ORDER BY l.locked_until DESC, l.email, l.network LIMIT $2`,
);

/**
 * $1 email, $2 networks, $3 their locked_until as read, $4 now, $5 who clears: marks each lock
 * cleared only if it is still the one read (a lock engaged again meanwhile ends later). Returns
 * one row per lock marked, `live` when it was in force.
 */
export const clearLoginLockoutsSql = schemaSql(
  (s) => `UPDATE ${s}.login_lockouts l SET cleared_at = $4, cleared_by = $5
         FROM unnest($2::text[], $3::timestamptz[]) AS read(network, locked_until)
        WHERE l.email = $1 AND l.network = read.network AND l.locked_until = read.locked_until AND l.cleared_at IS NULL
       RETURNING l.locked_until > $4 AS live`,
);
