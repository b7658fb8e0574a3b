import { SessionsMigration } from './sessions-migration';

export const LoginLockoutsAndUserSearch1764000001000: SessionsMigration = {
  name: 'LoginLockoutsAndUserSearch1764000001000',

  async up(q, s) {
    // The login locks Redis holds, made listable and clearable: one row per (email, network),
    // upserted by the failure that engages a lock, marked cleared by UnlockUser. The email is
    // the normalized one a login was tried with (text: it need not be any account's, nor fit
    // users.email); user_id is its account at the time, if any.
    await q.query(`
      CREATE TABLE ${s}.login_lockouts (
        email text NOT NULL,
        network varchar(64) NOT NULL,
        user_id uuid REFERENCES ${s}.users (id) ON DELETE SET NULL,
        failed_attempts integer NOT NULL,
        locked_at timestamptz NOT NULL,
        locked_until timestamptz NOT NULL,
        cleared_at timestamptz,
        cleared_by uuid,
        PRIMARY KEY (email, network)
      )`);
    // The overview's current lockouts: those not cleared, by when they end.
    await q.query(`CREATE INDEX login_lockouts_uncleared_idx ON ${s}.login_lockouts (locked_until DESC) WHERE cleared_at IS NULL`);
    // The console's user search: an email prefix and keyset pages on (email, id). LIKE 'x%' can
    // use a btree only under the C collation (the database's may be any), and the same index
    // gives the order, byte order, which for normalized emails is code point order.
    await q.query(`CREATE INDEX users_email_c_id_idx ON ${s}.users (email COLLATE "C", id)`);
    // The overview's count of live sessions, from the index alone.
    await q.query(`CREATE INDEX sessions_live_expiry_idx ON ${s}.sessions (expires_at) WHERE revoked_at IS NULL`);
  },

  async down(q, s) {
    await q.query(`DROP INDEX ${s}.sessions_live_expiry_idx`);
    await q.query(`DROP INDEX ${s}.users_email_c_id_idx`);
    await q.query(`DROP TABLE ${s}.login_lockouts`);
  },
};
