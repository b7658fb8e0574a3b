import { SessionsMigration } from './sessions-migration';

/**
 * Tamper evidence for the audit trail (docs/audit.md): a chain of seals, each over the entries
 * recorded in a time range. The sealer, not the insert, does the work: an append writes nothing
 * more than before, bar the recorded_at index entry.
 *
 * - audit_seals is append-only by trigger like audit_entries: a seal is evidence too. A superuser
 *   can still disable the triggers; what that leaves is caught by verification, not prevented.
 * - entry_hashes packs each sealed entry's event id (16 bytes) and SHA-256 (32) in seal order: it
 *   is what lets verification name the entry that changed or went missing, at 48 bytes an entry
 *   in one row per seal (a table of per-entry rows would cost an index and ~40 bytes of row
 *   header on top; a hash column on audit_entries would put the hashing on every insert).
 * - range_start is unique: two sealers can never both seal from one point, whatever their locks.
 * - audit_entries_recorded_at_idx serves the sealer's and the verifier's reads of a range. Its key
 *   grows with time, so appends add to its rightmost page. Built in the migration's transaction
 *   (appends wait for it on a large trail; see migration 1764000001100 for creating it by hand first).
 */
export const AuditSeals1764000001300: SessionsMigration = {
  name: 'AuditSeals1764000001300',

  async up(q, s) {
    await q.query(`CREATE INDEX IF NOT EXISTS audit_entries_recorded_at_idx ON ${s}.audit_entries (recorded_at)`);
    await q.query(`
      CREATE TABLE ${s}.audit_seals (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        format smallint NOT NULL,
        range_start timestamptz NOT NULL UNIQUE,
        range_end timestamptz NOT NULL,
        entry_count integer NOT NULL CHECK (entry_count >= 0),
        entries_digest bytea NOT NULL CHECK (octet_length(entries_digest) = 32),
        entry_hashes bytea NOT NULL CHECK (octet_length(entry_hashes) = 48 * entry_count),
        previous_seal_hash bytea NOT NULL CHECK (octet_length(previous_seal_hash) = 32),
        seal_hash bytea NOT NULL CHECK (octet_length(seal_hash) = 32),
        sealed_at timestamptz NOT NULL DEFAULT now(),
        CHECK (range_end > range_start)
      )`);
    // The leaf lists are hashes: compression gains nothing, so they are stored out of line uncompressed.
    await q.query(`ALTER TABLE ${s}.audit_seals ALTER COLUMN entry_hashes SET STORAGE EXTERNAL`);
    await q.query(`
      CREATE FUNCTION ${s}.audit_seals_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_seals is append-only: % rejected', TG_OP USING ERRCODE = '42501';
      END $$`);
    await q.query(
      `CREATE TRIGGER audit_seals_no_update_delete BEFORE UPDATE OR DELETE ON ${s}.audit_seals FOR EACH ROW EXECUTE FUNCTION ${s}.audit_seals_reject_change()`,
    );
    await q.query(
      `CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON ${s}.audit_seals FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_seals_reject_change()`,
    );
  },

  async down(q, s) {
    await q.query(`DROP TABLE ${s}.audit_seals`);
    await q.query(`DROP FUNCTION ${s}.audit_seals_reject_change()`);
    await q.query(`DROP INDEX ${s}.audit_entries_recorded_at_idx`);
  },
};
