import { SessionsMigration } from './sessions-migration';

export const AuditOutcomesAndTokenRotation1764000000100: SessionsMigration = {
  name: 'AuditOutcomesAndTokenRotation1764000000100',

  async up(q, s) {
    // One Attempted and at most one outcome per operation, enforced by the database: a late or
    // repeated outcome (a retry, a recovery pass) is dropped instead of recorded twice.
    await q.query(`CREATE UNIQUE INDEX audit_entries_one_attempt_key ON ${s}.audit_entries (correlation_id) WHERE outcome = 'attempted'`);
    await q.query(`CREATE UNIQUE INDEX audit_entries_one_outcome_key ON ${s}.audit_entries (correlation_id) WHERE outcome <> 'attempted'`);
    // Start-up recovery looks for recent Attempted entries that never got an outcome.
    await q.query(`CREATE INDEX audit_entries_attempted_idx ON ${s}.audit_entries (occurred_at) WHERE outcome = 'attempted'`);
    // After a cache outage, the sessions revoked since it began are marked revoked again.
    await q.query(`CREATE INDEX sessions_revoked_at_idx ON ${s}.sessions (revoked_at) WHERE revoked_at IS NOT NULL`);
    // Rotation keeps the family: which token a token replaced, and who rotated it away, so a
    // reuse can be told from a retry and reported with both requests' origins.
    await q.query(`
      ALTER TABLE ${s}.refresh_tokens
        ADD COLUMN parent_id uuid,
        ADD COLUMN rotated_at timestamptz,
        ADD COLUMN rotated_ip_address varchar(64),
        ADD COLUMN rotated_user_agent varchar(512)`);
    await q.query(`CREATE INDEX refresh_tokens_parent_idx ON ${s}.refresh_tokens (parent_id) WHERE parent_id IS NOT NULL`);
  },

  async down(q, s) {
    await q.query(`DROP INDEX ${s}.refresh_tokens_parent_idx`);
    await q.query(
      `ALTER TABLE ${s}.refresh_tokens DROP COLUMN parent_id, DROP COLUMN rotated_at, DROP COLUMN rotated_ip_address, DROP COLUMN rotated_user_agent`,
    );
    await q.query(`DROP INDEX ${s}.sessions_revoked_at_idx`);
    await q.query(`DROP INDEX ${s}.audit_entries_attempted_idx`);
    await q.query(`DROP INDEX ${s}.audit_entries_one_outcome_key`);
    await q.query(`DROP INDEX ${s}.audit_entries_one_attempt_key`);
  },
};
