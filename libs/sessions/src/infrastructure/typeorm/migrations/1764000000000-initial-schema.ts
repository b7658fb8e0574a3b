import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        email varchar(254) NOT NULL,
        password_hash text NOT NULL,
        role varchar(16) NOT NULL CHECK (role IN ('user', 'admin')),
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_key ON users (email)`);

    await q.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
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
    await q.query(`CREATE INDEX sessions_user_active_idx ON sessions (user_id, created_at DESC) WHERE revoked_at IS NULL`);
    await q.query(`CREATE INDEX sessions_user_idx ON sessions (user_id, created_at DESC)`);

    await q.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        user_id uuid NOT NULL,
        token_hash bytea NOT NULL CHECK (octet_length(token_hash) = 32),
        issued_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      )`);
    // One indexed read finds a token, whatever the number stored.
    await q.query(`CREATE UNIQUE INDEX refresh_tokens_token_hash_key ON refresh_tokens (token_hash)`);
    await q.query(`CREATE INDEX refresh_tokens_user_active_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL`);
    await q.query(`CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id)`);

    await q.query(`
      CREATE TABLE audit_entries (
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
    await q.query(`CREATE INDEX audit_entries_user_idx ON audit_entries (user_id, event_id DESC)`);
    await q.query(`CREATE INDEX audit_entries_action_idx ON audit_entries (action, event_id DESC)`);
    await q.query(`CREATE INDEX audit_entries_correlation_idx ON audit_entries (correlation_id)`);
    // The audit trail is append-only for everyone, the application included.
    await q.query(`
      CREATE FUNCTION audit_entries_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_entries is append-only: % rejected', TG_OP USING ERRCODE = '42501';
      END $$`);
    await q.query(`CREATE TRIGGER audit_entries_no_update_delete BEFORE UPDATE OR DELETE ON audit_entries FOR EACH ROW EXECUTE FUNCTION audit_entries_reject_change()`);
    await q.query(`CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_reject_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_entries`);
    await q.query(`DROP FUNCTION audit_entries_reject_change()`);
    await q.query(`DROP TABLE refresh_tokens`);
    await q.query(`DROP TABLE sessions`);
    await q.query(`DROP TABLE users`);
  }
}
