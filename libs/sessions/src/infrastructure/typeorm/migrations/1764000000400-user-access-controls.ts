import { SessionsMigration } from './sessions-migration';

export const UserAccessControls1764000000400: SessionsMigration = {
  name: 'UserAccessControls1764000000400',

  async up(q, s) {
    // An administrator can disable an account (no login, every session ended) and require a
    // password reset (the current password stops working until a one-time reset token, issued
    // to the administrator and stored only as its SHA-256, sets a new one before it expires).
    await q.query(`
      ALTER TABLE ${s}.users
        ADD COLUMN disabled_at timestamptz,
        ADD COLUMN password_reset_required_at timestamptz,
        ADD COLUMN password_reset_token_hash bytea CHECK (octet_length(password_reset_token_hash) = 32),
        ADD COLUMN password_reset_expires_at timestamptz,
        ADD CONSTRAINT users_password_reset_token_check
          CHECK ((password_reset_token_hash IS NULL) = (password_reset_expires_at IS NULL))`);
    await q.query(`CREATE UNIQUE INDEX users_password_reset_token_key ON ${s}.users (password_reset_token_hash) WHERE password_reset_token_hash IS NOT NULL`);
  },

  async down(q, s) {
    await q.query(`DROP INDEX ${s}.users_password_reset_token_key`);
    await q.query(`
      ALTER TABLE ${s}.users
        DROP CONSTRAINT users_password_reset_token_check,
        DROP COLUMN password_reset_expires_at,
        DROP COLUMN password_reset_token_hash,
        DROP COLUMN password_reset_required_at,
        DROP COLUMN disabled_at`);
  },
};
