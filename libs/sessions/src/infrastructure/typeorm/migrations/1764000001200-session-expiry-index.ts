import { SessionsMigration } from './sessions-migration';

/**
 * The purge of expired sessions walks every session, revoked or not, by expiry (oldest first, a
 * batch at a time): sessions_live_expiry_idx is partial on live sessions and cannot serve it, so
 * without this each batch would scan and sort the whole table. expires_at never changes after
 * the insert, so the index costs the login's insert and nothing on revocation or touch. The plan
 * is checked in test/integration/session-purge.int-spec.ts.
 *
 * Built in the migration's transaction (not CONCURRENTLY): on a large table, logins wait for the
 * build; build it by hand first at a quiet time (CREATE INDEX CONCURRENTLY IF NOT EXISTS
 * sessions_expiry_idx ON sessions (expires_at)) and the migration skips it.
 */
export const SessionExpiryIndex1764000001200: SessionsMigration = {
  name: 'SessionExpiryIndex1764000001200',

  async up(q, s) {
    await q.query(`CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON ${s}.sessions (expires_at)`);
  },

  async down(q, s) {
    await q.query(`DROP INDEX ${s}.sessions_expiry_idx`);
  },
};
