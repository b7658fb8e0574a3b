import { schemaSql } from './schema-name';

/** A UserRecord's fields, named as the record names them. */
const USER_RECORD = 'id, email, password_hash AS "passwordHash", role, created_at AS "createdAt"';

/** $1 id, $2 email, $3 password hash, $4 role, $5 created at; a taken email inserts nothing. */
export const insertUserSql = schemaSql(
  (s) => `INSERT INTO ${s}.users (id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (email) DO NOTHING RETURNING id`,
);

/** $1 email. */
export const selectUserByEmailSql = schemaSql((s) => `SELECT ${USER_RECORD} FROM ${s}.users WHERE email = $1`);

/** $1 id. */
export const selectUserByIdSql = schemaSql((s) => `SELECT ${USER_RECORD} FROM ${s}.users WHERE id = $1`);

/** $1 id. */
export const userExistsSql = schemaSql((s) => `SELECT 1 FROM ${s}.users WHERE id = $1`);

/** $1 email: the id and role of the account that has it. */
export const selectUserRoleByEmailSql = schemaSql((s) => `SELECT id, role FROM ${s}.users WHERE email = $1`);

export const selectAnyAdminSql = schemaSql((s) => `SELECT 1 FROM ${s}.users WHERE role = 'admin' LIMIT 1`);

/**
 * Instances starting together (even with different ADMIN_EMAILs) create at most one admin: $1 is
 * adminBootstrapLockKey(schema), one lock per schema.
 */
export const ADMIN_BOOTSTRAP_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext($1))`;

export function adminBootstrapLockKey(schema: string): string {
  return `${schema}.admin_bootstrap`;
}

/**
 * Every admin row and the target ($1), locked in id order: concurrent role changes serialize here
 * instead of deadlocking, and the admins counted are rows no one else can change until commit.
 */
export const lockRoleHoldersSql = schemaSql((s) => `SELECT id, role FROM ${s}.users WHERE id = $1 OR role = 'admin' ORDER BY id FOR UPDATE`);

/** $1 id, $2 role. */
export const updateUserRoleSql = schemaSql((s) => `UPDATE ${s}.users SET role = $2 WHERE id = $1`);

/**
 * $1 id, $2 the hash a login verified. FOR SHARE conflicts with the password change's UPDATE:
 * whichever comes second waits, and a waiting SELECT ... FOR SHARE reads the row as the change
 * committed it.
 */
export const lockVerifiedCredentialsSql = schemaSql(
  (s) => `SELECT password_hash = $2 AS current, disabled_at IS NOT NULL AS disabled, password_reset_required_at IS NOT NULL AS reset_required
         FROM ${s}.users WHERE id = $1 FOR SHARE`,
);

/**
 * The same check, for a login under the session cap: FOR NO KEY UPDATE conflicts with itself, so
 * the user's capped logins take turns (each counts the sessions the one before committed), and
 * with the password change's UPDATE as FOR SHARE does. Not FOR UPDATE: that would also conflict
 * with the FOR KEY SHARE of every foreign-key check on the user (a refresh inserting its token
 * row), which the cap has no reason to hold up. Taken in place of FOR SHARE, never after it: two
 * logins upgrading their share locks would deadlock.
 */
export const lockVerifiedCredentialsSerializedSql = schemaSql(
  (s) => `SELECT password_hash = $2 AS current, disabled_at IS NOT NULL AS disabled, password_reset_required_at IS NOT NULL AS reset_required
         FROM ${s}.users WHERE id = $1 FOR NO KEY UPDATE`,
);

/** $1 id, $2 the hash expected, $3 the new hash: nothing when the password changed meanwhile. */
export const replacePasswordHashSql = schemaSql((s) => `UPDATE ${s}.users SET password_hash = $3 WHERE id = $1 AND password_hash = $2 RETURNING id`);

/** $1 id, $2 when disabled, or null to enable; a second disable keeps the first time. */
export const setUserDisabledSql = schemaSql(
  (s) => `UPDATE ${s}.users SET disabled_at = CASE WHEN $2::timestamptz IS NULL THEN NULL ELSE COALESCE(disabled_at, $2::timestamptz) END
        WHERE id = $1 RETURNING id`,
);

/** $1 id, $2 reset token hash, $3 when required, $4 when the token expires. */
export const requirePasswordResetSql = schemaSql(
  (
    s,
  ) => `UPDATE ${s}.users SET password_reset_required_at = COALESCE(password_reset_required_at, $3), password_reset_token_hash = $2, password_reset_expires_at = $4
        WHERE id = $1 RETURNING id`,
);

/** $1 reset token hash, $2 new password hash, $3 now: the user's id, when the token is live. */
export const redeemPasswordResetSql = schemaSql(
  (s) => `UPDATE ${s}.users SET password_hash = $2, password_reset_required_at = NULL, password_reset_token_hash = NULL, password_reset_expires_at = NULL
        WHERE password_reset_token_hash = $1 AND password_reset_expires_at > $3 RETURNING id`,
);

/**
 * The console's user listing; each condition is off when its parameter is null. $1 id, $2 LIKE
 * pattern (escape `\`, see likePrefixPattern), $3/$4 the (email, id) to start after, $5 status,
 * $6 now (when a lockout counts), $7 limit. Ordered by (email COLLATE "C", id), as the index
 * users_email_c_id_idx is, which also serves the prefix: pg plans these unnamed statements for
 * their parameters, so a null's condition folds away. The lock: the latest lockout in force of
 * the email (login_lockouts' primary key starts with it); a `locked` filter starts from the
 * uncleared locks, which are few, rather than from every user.
 */
export const searchUsersSql = schemaSql(
  (s) => `SELECT u.id, u.email, u.role, u.created_at AS "createdAt", u.disabled_at IS NOT NULL AS disabled,
              u.password_reset_required_at IS NOT NULL AS "passwordResetRequired", lock.locked_until AS "lockedUntil"
         FROM ${s}.users u
         LEFT JOIN LATERAL (
           SELECT max(l.locked_until) AS locked_until FROM ${s}.login_lockouts l
            WHERE l.email = u.email AND l.cleared_at IS NULL AND l.locked_until > $6) lock ON true
        WHERE ($1::uuid IS NULL OR u.id = $1::uuid)
          AND ($2::text IS NULL OR u.email COLLATE "C" LIKE $2::text ESCAPE '\\')
          AND ($3::text IS NULL OR (u.email COLLATE "C", u.id) > ($3::text COLLATE "C", $4::uuid))
          AND ($5::text IS NULL OR $5::text <> 'locked'
               OR u.email IN (SELECT l.email FROM ${s}.login_lockouts l WHERE l.cleared_at IS NULL AND l.locked_until > $6))
          AND ($5::text IS NULL
               OR $5::text = CASE WHEN u.disabled_at IS NOT NULL THEN 'disabled' WHEN lock.locked_until IS NOT NULL THEN 'locked' ELSE 'active' END)
        ORDER BY u.email COLLATE "C", u.id
        LIMIT $7`,
);
