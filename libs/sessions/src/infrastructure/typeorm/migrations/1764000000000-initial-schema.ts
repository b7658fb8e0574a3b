import { SessionsMigration } from './sessions-migration';

export const InitialSchema1764000000000: SessionsMigration = {
  name: 'InitialSchema1764000000000',

  async up(q, s) {
    await q.query(`
      CREATE TABLE ${s}.users (
        id uuid PRIMARY KEY,
        email varchar(254) NOT NULL,
        password_hash text NOT NULL,
        role varchar(16) NOT NULL CHECK (role IN ('user', 'admin')),
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_key ON ${s}.users (email)`);

    await q.query(`
      CREATE TABLE ${s}.sessions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES ${s}.users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        ip_address varchar(64),
        user_agent varchar(512),
        revoked_at timestamptz,
        revoked_reason varchar(200),
        revoked_by uuid,
        CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
      )`);
    // Revoke-all and "my sessions" touch only the user's active rows.
    await q.query(`CREATE INDEX sessions_user_active_idx ON ${s}.sessions (user_id, created_at DESC) WHERE revoked_at IS NULL`);
    await q.query(`CREATE INDEX sessions_user_idx ON ${s}.sessions (user_id, created_at DESC)`);

    await q.query(`
      CREATE TABLE ${s}.refresh_tokens (
        id uuid PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES ${s}.sessions (id) ON DELETE CASCADE,
        user_id uuid NOT NULL,
        token_hash bytea NOT NULL CHECK (octet_length(token_hash) = 32),
        issued_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      )`);
    // One indexed read finds a token, whatever the number stored.
    await q.query(`CREATE UNIQUE INDEX refresh_tokens_token_hash_key ON ${s}.refresh_tokens (token_hash)`);
    await q.query(`CREATE INDEX refresh_tokens_user_active_idx ON ${s}.refresh_tokens (user_id) WHERE revoked_at IS NULL`);
    await q.query(`CREATE INDEX refresh_tokens_session_idx ON ${s}.refresh_tokens (session_id)`);

    await q.query(`
      CREATE TABLE ${s}.audit_entries (
        event_id uuid PRIMARY KEY,
        correlation_id uuid NOT NULL,
        action varchar(64) NOT NULL,
        outcome varchar(16) NOT NULL CHECK (outcome IN ('attempted', 'succeeded', 'failed')),
        occurred_at timestamptz NOT NULL,
        user_id uuid,
        actor_type varchar(16) NOT NULL CHECK (actor_type IN ('user', 'admin', 'system')),
        actor_id uuid,
        session_id uuid,
        reason varchar(200),
        ip_address varchar(64),
        user_agent varchar(512),
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX audit_entries_user_idx ON ${s}.audit_entries (user_id, event_id DESC)`);
    await q.query(`CREATE INDEX audit_entries_action_idx ON ${s}.audit_entries (action, event_id DESC)`);
    await q.query(`CREATE INDEX audit_entries_correlation_idx ON ${s}.audit_entries (correlation_id)`);
    // The audit trail is append-only for everyone, the application included.
    await q.query(`
      CREATE FUNCTION ${s}.audit_entries_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_entries is append-only: % rejected', TG_OP USING ERRCODE = '42501';
      END $$`);
    await q.query(
      `CREATE TRIGGER audit_entries_no_update_delete BEFORE UPDATE OR DELETE ON ${s}.audit_entries FOR EACH ROW EXECUTE FUNCTION ${s}.audit_entries_reject_change()`,
    );
    await q.query(
      `CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON ${s}.audit_entries FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_entries_reject_change()`,
    );
  },

  async down(q, s) {
    await q.query(`DROP TABLE ${s}.audit_entries`);
    await q.query(`DROP FUNCTION ${s}.audit_entries_reject_change()`);
    await q.query(`DROP TABLE ${s}.refresh_tokens`);
    await q.query(`DROP TABLE ${s}.sessions`);
    await q.query(`DROP TABLE ${s}.users`);
  },
};
