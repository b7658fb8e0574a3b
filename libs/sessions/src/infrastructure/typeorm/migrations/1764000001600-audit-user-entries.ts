import { SessionsMigration } from './sessions-migration';

/**
 * A user's audit page in the cost of the page, not of the user's whole trail.
 *
 * `GET /admin/audit?userId=` lists every entry of each operation that names the user, and the
 * Attempted of a register, login or refresh names nobody (the user is learnt at the outcome). Until
 * now a page therefore gathered all the user's operations first (audit_entries_user_idx, then both
 * keys of each): at 3,000 entries for one user and 10 M in the trail that was 2.3 times the time
 * of the same page at 100 k (bench:scale, 2026-12-03), the reads leaving shared buffers.
 *
 * audit_user_entries holds the missing links: (user, entry) for each entry of an operation of that
 * user which does not itself carry the user. The claim trigger writes them as the second entry of an
 * operation comes in, whichever comes first: it finds the first through audit_entry_keys, which now
 * also keeps each entry's user_id. A page is then two index ranges read newest first and merged,
 * audit_entries_user_idx and this table's primary key, cut at the page size.
 *
 * Both entries of an operation coming in concurrently, in two transactions, would not see each
 * other; the audit recorder never writes two batches that share an operation at once
 * (AuditRecorder), and an operation's outcome written in its command's transaction comes with its
 * Attempted or waits on it (the Attempted's key is claimed first). Rows written before this
 * migration have no user_id in audit_entry_keys; the links of their operations are built here.
 *
 * Retention: a link goes with its entry (audit_release_dropped_keys, after the partition is dropped);
 * the guard refuses anything else, as for the keys.
 */
export const AuditUserEntries1764000001600: SessionsMigration = {
  name: 'AuditUserEntries1764000001600',

  async up(q, s) {
    await q.query(`
      CREATE TABLE ${s}.audit_user_entries (
        user_id uuid NOT NULL,
        event_id uuid NOT NULL,
        recorded_at timestamptz NOT NULL,
        PRIMARY KEY (user_id, event_id)
      )`);
    await q.query(`CREATE INDEX audit_user_entries_recorded_at_idx ON ${s}.audit_user_entries (recorded_at)`);
    // The links of the trail already there, while entries go on being appended (this reads
    // audit_entries under no lock that stops an insert). Then the ALTER takes audit_entry_keys for
    // the rest of the migration: an insert waits for the commit (its claim trigger writes a key),
    // and a second pass links what was appended meanwhile (recorded_at is its transaction's start:
    // the margin covers a transaction that began before the first pass and committed after it).
    const [{ startedAt }] = (await q.query(`SELECT clock_timestamp() - interval '15 minutes' AS "startedAt"`)) as Array<{ startedAt: Date }>;
    const linkTrail = (narrowed: string) =>
      `INSERT INTO ${s}.audit_user_entries (user_id, event_id, recorded_at)
       SELECT DISTINCT named.user_id, other.event_id, other.recorded_at
         FROM ${s}.audit_entries named
         JOIN ${s}.audit_entries other ON other.correlation_id = named.correlation_id AND other.event_id <> named.event_id
        WHERE named.user_id IS NOT NULL AND other.user_id IS DISTINCT FROM named.user_id${narrowed}
       ON CONFLICT DO NOTHING`;
    await q.query(linkTrail(''));
    await q.query(`ALTER TABLE ${s}.audit_entry_keys ADD COLUMN user_id uuid`);
    await q.query(linkTrail(` AND named.correlation_id IN (SELECT correlation_id FROM ${s}.audit_entries WHERE recorded_at >= $1)`), [startedAt]);
    await q.query(`
      CREATE FUNCTION ${s}.audit_user_entries_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          IF NOT EXISTS (SELECT 1 FROM ${s}.audit_entries e WHERE e.event_id = OLD.event_id AND e.recorded_at = OLD.recorded_at) THEN
            RETURN OLD;
          END IF;
        END IF;
        RAISE EXCEPTION 'audit_user_entries: % rejected (a link goes only after its entry''s partition)', TG_OP USING ERRCODE = '42501';
      END $$`);
    await q.query(
      `CREATE TRIGGER audit_user_entries_guard BEFORE UPDATE OR DELETE ON ${s}.audit_user_entries FOR EACH ROW EXECUTE FUNCTION ${s}.audit_user_entries_guard()`,
    );
    await q.query(
      `CREATE TRIGGER audit_user_entries_no_truncate BEFORE TRUNCATE ON ${s}.audit_user_entries FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_user_entries_guard()`,
    );

    // The other entry of the operation is found by one of the two partial unique indexes (a static
    // query each, so the planner uses the index whose predicate it names).
    await q.query(`
      CREATE OR REPLACE FUNCTION ${s}.audit_entries_claim_key() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        other record;
      BEGIN
        INSERT INTO ${s}.audit_entry_keys (event_id, correlation_id, outcome, recorded_at, user_id)
          VALUES (NEW.event_id, NEW.correlation_id, NEW.outcome, NEW.recorded_at, NEW.user_id) ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
          RETURN NULL; -- recorded already (this event id), or the operation has its Attempted / its outcome
        END IF;
        IF NEW.outcome = 'attempted' THEN
          SELECT k.event_id, k.recorded_at, k.user_id INTO other FROM ${s}.audit_entry_keys k
           WHERE k.correlation_id = NEW.correlation_id AND k.outcome <> 'attempted';
        ELSE
          SELECT k.event_id, k.recorded_at, k.user_id INTO other FROM ${s}.audit_entry_keys k
           WHERE k.correlation_id = NEW.correlation_id AND k.outcome = 'attempted';
        END IF;
        IF FOUND THEN
          IF NEW.user_id IS NOT NULL AND other.user_id IS DISTINCT FROM NEW.user_id THEN
            INSERT INTO ${s}.audit_user_entries (user_id, event_id, recorded_at)
              VALUES (NEW.user_id, other.event_id, other.recorded_at) ON CONFLICT DO NOTHING;
          END IF;
          IF other.user_id IS NOT NULL AND other.user_id IS DISTINCT FROM NEW.user_id THEN
            INSERT INTO ${s}.audit_user_entries (user_id, event_id, recorded_at)
              VALUES (other.user_id, NEW.event_id, NEW.recorded_at) ON CONFLICT DO NOTHING;
          END IF;
        END IF;
        RETURN NEW;
      END $$`);

    await q.query(`
      CREATE OR REPLACE FUNCTION ${s}.audit_release_dropped_keys(batch integer) RETURNS integer
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      DECLARE
        bound timestamptz;
        links integer;
        released integer;
      BEGIN
        SELECT max(range_end) INTO bound FROM ${s}.audit_exports;
        IF bound IS NULL THEN
          RETURN 0;
        END IF;
        -- The links first, then the keys, up to \`batch\` rows in all: fewer than \`batch\` means none is left.
        DELETE FROM ${s}.audit_user_entries WHERE (user_id, event_id) IN (
          SELECT user_id, event_id FROM ${s}.audit_user_entries WHERE recorded_at < bound ORDER BY recorded_at LIMIT batch);
        GET DIAGNOSTICS links = ROW_COUNT;
        IF links = batch THEN
          RETURN links;
        END IF;
        DELETE FROM ${s}.audit_entry_keys WHERE event_id IN (
          SELECT event_id FROM ${s}.audit_entry_keys WHERE recorded_at < bound ORDER BY recorded_at LIMIT batch - links);
        GET DIAGNOSTICS released = ROW_COUNT;
        RETURN links + released;
      END $$`);
  },

  async down(q, s) {
    await q.query(`
      CREATE OR REPLACE FUNCTION ${s}.audit_release_dropped_keys(batch integer) RETURNS integer
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      DECLARE
        bound timestamptz;
        released integer;
      BEGIN
        SELECT max(range_end) INTO bound FROM ${s}.audit_exports;
        IF bound IS NULL THEN
          RETURN 0;
        END IF;
        DELETE FROM ${s}.audit_entry_keys WHERE event_id IN (
          SELECT event_id FROM ${s}.audit_entry_keys WHERE recorded_at < bound ORDER BY recorded_at LIMIT batch);
        GET DIAGNOSTICS released = ROW_COUNT;
        RETURN released;
      END $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION ${s}.audit_entries_claim_key() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO ${s}.audit_entry_keys (event_id, correlation_id, outcome, recorded_at)
          VALUES (NEW.event_id, NEW.correlation_id, NEW.outcome, NEW.recorded_at) ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
          RETURN NULL;
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`DROP TABLE ${s}.audit_user_entries`);
    await q.query(`DROP FUNCTION ${s}.audit_user_entries_guard()`);
    await q.query(`ALTER TABLE ${s}.audit_entry_keys DROP COLUMN user_id`);
  },
};
