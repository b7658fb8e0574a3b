import { SessionsMigration } from './sessions-migration';

export const ConsoleSessions1764000000900: SessionsMigration = {
  name: 'ConsoleSessions1764000000900',

  async up(q, s) {
    // A console session is an ordinary session (every revocation ends it), told apart so the web
    // API refuses its credential: its refresh token lives in the admin console's cookie and is
    // never rotated. reauthenticated_at: when the password was last entered again in the session,
    // for the console's step-up before destructive actions (any kind of session may have one).
    // The default fills existing rows without rewriting them (PostgreSQL 11+).
    await q.query(`
      ALTER TABLE ${s}.sessions
        ADD COLUMN kind varchar(16) NOT NULL DEFAULT 'app' CONSTRAINT sessions_kind_check CHECK (kind IN ('app', 'console')),
        ADD COLUMN reauthenticated_at timestamptz`);
  },

  async down(q, s) {
    await q.query(`ALTER TABLE ${s}.sessions DROP COLUMN reauthenticated_at, DROP COLUMN kind`);
  },
};
