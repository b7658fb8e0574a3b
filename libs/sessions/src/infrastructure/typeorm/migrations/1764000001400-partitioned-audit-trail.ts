import { MigrationQueries, SessionsMigration } from './sessions-migration';

/** Months created ahead of the current one, here and by the maintenance job (AUDIT_PARTITIONS_AHEAD in docs/audit.md). */
export const AUDIT_PARTITIONS_AHEAD = 3;

/** The columns of audit_entries, in the table's order since migration 1764000000800 (SELECT * readers see no change). */
const COLUMNS = `
  event_id uuid NOT NULL,
  correlation_id uuid NOT NULL,
  action varchar(64) NOT NULL,
  outcome varchar(16) NOT NULL CONSTRAINT audit_entries_outcome_check CHECK (outcome IN ('attempted', 'succeeded', 'failed')),
  occurred_at timestamptz NOT NULL,
  user_id uuid,
  actor_type varchar(16) NOT NULL CONSTRAINT audit_entries_actor_type_check CHECK (actor_type IN ('user', 'admin', 'system', 'service')),
  actor_id uuid,
  session_id uuid,
  reason varchar(200),
  ip_address varchar(64),
  user_agent varchar(512),
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  actor_name varchar(64),
  request_id varchar(128) CONSTRAINT audit_entries_request_id_check CHECK (request_id ~ '^[A-Za-z0-9._:-]{1,128}$'),
  CONSTRAINT audit_entries_actor_name_check CHECK ((actor_type = 'service') = (actor_name IS NOT NULL))`;

const COLUMN_NAMES =
  'event_id, correlation_id, action, outcome, occurred_at, user_id, actor_type, actor_id, session_id, reason, ip_address, user_agent, details, recorded_at, actor_name, request_id';

/** The non-unique indexes of audit_entries (migrations 0, 100, 800, 1100, 1300), by name. */
const INDEXES: ReadonlyArray<readonly [string, string]> = [
  ['audit_entries_user_idx', '(user_id, event_id DESC)'],
  ['audit_entries_action_idx', '(action, event_id DESC)'],
  ['audit_entries_correlation_idx', '(correlation_id)'],
  ['audit_entries_attempted_idx', `(occurred_at) WHERE outcome = 'attempted'`],
  ['audit_entries_request_id_idx', '(request_id, event_id DESC) WHERE request_id IS NOT NULL'],
  ['audit_entries_actor_idx', '(actor_id, event_id DESC) WHERE actor_id IS NOT NULL'],
  ['audit_entries_session_idx', '(session_id, event_id DESC) WHERE session_id IS NOT NULL'],
  ['audit_entries_ip_address_idx', '(ip_address, event_id DESC) WHERE ip_address IS NOT NULL'],
  ['audit_entries_failed_idx', `(event_id DESC) WHERE outcome = 'failed'`],
  ['audit_entries_occurred_at_idx', '(occurred_at)'],
  ['audit_entries_recorded_at_idx', '(recorded_at)'],
];

async function createIndexes(q: MigrationQueries, s: string): Promise<void> {
  for (const [name, definition] of INDEXES) await q.query(`CREATE INDEX ${name} ON ${s}.audit_entries ${definition}`);
}

async function createAppendOnlyTriggers(q: MigrationQueries, s: string): Promise<void> {
  await q.query(
    `CREATE TRIGGER audit_entries_no_update_delete BEFORE UPDATE OR DELETE ON ${s}.audit_entries FOR EACH ROW EXECUTE FUNCTION ${s}.audit_entries_reject_change()`,
  );
  await q.query(
    `CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON ${s}.audit_entries FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_entries_reject_change()`,
  );
}

/** `"sessions"` → `sessions`: the schema as a plain name, for SQL text that builds identifiers with format(). */
const plain = (s: string) => s.replace(/"/g, '');

/**
 * audit_entries partitioned by month of recorded_at (docs/audit.md, "Partitions and retention").
 *
 * - Unique indexes of a partitioned table must hold the partition key, so the primary key becomes
 *   (event_id, recorded_at) and the one-Attempted / one-outcome indexes move to audit_entry_keys, a
 *   plain table of one row per entry (event id, correlation id, outcome, recorded_at). A BEFORE
 *   INSERT trigger on audit_entries claims the entry's key with ON CONFLICT DO NOTHING and drops the
 *   row when the key is taken, so every INSERT path (the recorder's, a test's, an operator's) keeps
 *   "one event id, one Attempted and one outcome per correlation id" across partitions and months,
 *   exactly as the global indexes did. A key can be deleted only once its entry is gone (retention).
 * - No default partition: recorded_at is the database's now(), so the only partitions ever written
 *   are the current month's; the service creates it (and AUDIT_PARTITIONS_AHEAD more) ahead of
 *   time. A default partition would hide a failed creation until it had to be split under lock.
 * - Row triggers on the parent are cloned onto every partition, present and future; a statement
 *   TRUNCATE trigger is not, so audit_entries_create_partitions gives each partition its own.
 * - audit_entries_create_partitions, audit_drop_expired_partition and audit_release_dropped_keys
 *   are SECURITY DEFINER: a runtime role that owns nothing (no DDL, DML only) is granted EXECUTE on
 *   them and can create partitions, drop an exported one and release its keys only under their checks.
 *
 * The copy runs in the migration's transaction and holds audit_entries locked until it commits:
 * appends wait for it (a large trail: run it at a quiet time).
 */
export const PartitionedAuditTrail1764000001400: SessionsMigration = {
  name: 'PartitionedAuditTrail1764000001400',

  async up(q, s) {
    const schema = plain(s);
    await q.query(`ALTER TABLE ${s}.audit_entries RENAME TO audit_entries_unpartitioned`);
    await q.query(`ALTER TABLE ${s}.audit_entries_unpartitioned RENAME CONSTRAINT audit_entries_pkey TO audit_entries_unpartitioned_pkey`);
    await q.query(
      `CREATE TABLE ${s}.audit_entries (${COLUMNS}, CONSTRAINT audit_entries_pkey PRIMARY KEY (event_id, recorded_at)) PARTITION BY RANGE (recorded_at)`,
    );

    await q.query(`
      CREATE TABLE ${s}.audit_entry_keys (
        event_id uuid PRIMARY KEY,
        correlation_id uuid NOT NULL,
        outcome varchar(16) NOT NULL,
        recorded_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX audit_entry_keys_one_attempt_key ON ${s}.audit_entry_keys (correlation_id) WHERE outcome = 'attempted'`);
    await q.query(`CREATE UNIQUE INDEX audit_entry_keys_one_outcome_key ON ${s}.audit_entry_keys (correlation_id) WHERE outcome <> 'attempted'`);
    // The keys of a dropped month are released afterwards, in batches, by recorded_at: not under the drop's lock.
    await q.query(`CREATE INDEX audit_entry_keys_recorded_at_idx ON ${s}.audit_entry_keys (recorded_at)`);

    // A partition's copy of audit_entries_user_idx is audit_entries_y2026m12_user_idx (PostgreSQL would
    // name it after its columns): plans and \d name the index the migrations created. In two passes:
    // a name wanted by one index may be held by another, still to be renamed (both on occurred_at).
    await q.query(`
      CREATE FUNCTION ${s}.audit_entries_name_partition_indexes() RETURNS void
      LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
      DECLARE
        found record;
      BEGIN
        FOR pass IN 1 .. 2 LOOP
          FOR found IN
            SELECT child.oid, child.relname AS child, regexp_replace(parent.relname, '^audit_entries_', part.relname || '_') AS wanted
              FROM pg_inherits parts
              JOIN pg_class part ON part.oid = parts.inhrelid
              JOIN pg_index ix ON ix.indrelid = part.oid
              JOIN pg_class child ON child.oid = ix.indexrelid
              JOIN pg_inherits idx ON idx.inhrelid = child.oid
              JOIN pg_class parent ON parent.oid = idx.inhparent
             WHERE parts.inhparent = '${schema}.audit_entries'::regclass
          LOOP
            CONTINUE WHEN found.child = found.wanted;
            EXECUTE format('ALTER INDEX %I.%I RENAME TO %I', '${schema}', found.child,
              CASE pass WHEN 1 THEN 'audit_entries_index_' || found.oid ELSE found.wanted END);
          END LOOP;
        END LOOP;
      END $$`);
    await q.query(`
      CREATE FUNCTION ${s}.audit_entries_create_partitions(first_month timestamptz, months integer) RETURNS SETOF text
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
      DECLARE
        month_start timestamptz;
        part text;
      BEGIN
        IF months < 1 OR months > 120 THEN
          RAISE EXCEPTION 'months must be between 1 and 120 (got %)', months USING ERRCODE = '22023';
        END IF;
        -- One creator at a time per schema; the others wait, then find the partitions there.
        PERFORM pg_advisory_xact_lock(hashtextextended('${schema}.audit_partitions', 0));
        FOR i IN 0 .. months - 1 LOOP
          month_start := date_trunc('month', first_month) + make_interval(months => i);
          part := 'audit_entries_' || to_char(month_start, '"y"YYYY"m"MM');
          CONTINUE WHEN to_regclass(format('%I.%I', '${schema}', part)) IS NOT NULL;
          EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.audit_entries FOR VALUES FROM (%L) TO (%L)',
            '${schema}', part, '${schema}', month_start, month_start + interval '1 month');
          EXECUTE format('CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION %I.audit_entries_reject_change()',
            '${schema}', part, '${schema}');
          RETURN NEXT part;
        END LOOP;
        PERFORM ${s}.audit_entries_name_partition_indexes();
      END $$`);
    await q.query(`REVOKE ALL ON FUNCTION ${s}.audit_entries_create_partitions(timestamptz, integer) FROM PUBLIC`);

    // Every month that holds a row, then the previous, the current and AUDIT_PARTITIONS_AHEAD more.
    await q.query(
      `SELECT ${s}.audit_entries_create_partitions(month_start, 1) FROM generate_series(
         least((SELECT date_trunc('month', min(recorded_at), 'UTC') FROM ${s}.audit_entries_unpartitioned), date_trunc('month', now(), 'UTC') - interval '1 month'),
         date_trunc('month', now(), 'UTC') + make_interval(months => $1),
         interval '1 month') month_start`,
      [AUDIT_PARTITIONS_AHEAD],
    );
    // The rows and their keys, each in one set-based statement (the claim trigger comes after, so the copy does not pay for it).
    await q.query(`INSERT INTO ${s}.audit_entries (${COLUMN_NAMES}) SELECT ${COLUMN_NAMES} FROM ${s}.audit_entries_unpartitioned`);
    await q.query(
      `INSERT INTO ${s}.audit_entry_keys (event_id, correlation_id, outcome, recorded_at) SELECT event_id, correlation_id, outcome, recorded_at FROM ${s}.audit_entries`,
    );
    await q.query(`DROP TABLE ${s}.audit_entries_unpartitioned`);
    await createIndexes(q, s);
    await q.query(`SELECT ${s}.audit_entries_name_partition_indexes()`);
    await createAppendOnlyTriggers(q, s);

    await q.query(`
      CREATE FUNCTION ${s}.audit_entries_claim_key() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO ${s}.audit_entry_keys (event_id, correlation_id, outcome, recorded_at)
          VALUES (NEW.event_id, NEW.correlation_id, NEW.outcome, NEW.recorded_at) ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
          RETURN NULL; -- recorded already (this event id), or the operation has its Attempted / its outcome
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER audit_entries_claim_key BEFORE INSERT ON ${s}.audit_entries FOR EACH ROW EXECUTE FUNCTION ${s}.audit_entries_claim_key()`);
    await q.query(`
      CREATE FUNCTION ${s}.audit_entry_keys_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          IF NOT EXISTS (SELECT 1 FROM ${s}.audit_entries e WHERE e.event_id = OLD.event_id AND e.recorded_at = OLD.recorded_at) THEN
            RETURN OLD;
          END IF;
        END IF;
        RAISE EXCEPTION 'audit_entry_keys: % rejected (a key goes only after its entry''s partition)', TG_OP USING ERRCODE = '42501';
      END $$`);
    await q.query(
      `CREATE TRIGGER audit_entry_keys_guard BEFORE UPDATE OR DELETE ON ${s}.audit_entry_keys FOR EACH ROW EXECUTE FUNCTION ${s}.audit_entry_keys_guard()`,
    );
    await q.query(
      `CREATE TRIGGER audit_entry_keys_no_truncate BEFORE TRUNCATE ON ${s}.audit_entry_keys FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_entry_keys_guard()`,
    );

    await q.query(`
      CREATE TABLE ${s}.audit_exports (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        partition_name text NOT NULL UNIQUE,
        range_start timestamptz NOT NULL,
        range_end timestamptz NOT NULL,
        row_count bigint NOT NULL CHECK (row_count >= 0),
        first_event_id uuid,
        last_event_id uuid,
        manifest_sha256 bytea NOT NULL CHECK (octet_length(manifest_sha256) = 32),
        retention_months integer NOT NULL,
        dropped_at timestamptz NOT NULL DEFAULT now(),
        CHECK (range_end > range_start)
      )`);
    await q.query(`
      CREATE FUNCTION ${s}.audit_exports_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_exports is append-only: % rejected', TG_OP USING ERRCODE = '42501';
      END $$`);
    await q.query(
      `CREATE TRIGGER audit_exports_no_update_delete BEFORE UPDATE OR DELETE ON ${s}.audit_exports FOR EACH ROW EXECUTE FUNCTION ${s}.audit_exports_reject_change()`,
    );
    await q.query(
      `CREATE TRIGGER audit_exports_no_truncate BEFORE TRUNCATE ON ${s}.audit_exports FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_exports_reject_change()`,
    );

    // The only way a partition leaves: exported (the caller's manifest digest and counts), past
    // retention by the database's clock, the oldest one, sealed through its end. Recorded, then dropped.
    await q.query(`
      CREATE FUNCTION ${s}.audit_drop_expired_partition(part text, months_kept integer, manifest_digest bytea, rows_exported bigint,
                                                         first_exported uuid, last_exported uuid) RETURNS void
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
      DECLARE
        parts text[];
        from_at timestamptz;
        to_at timestamptz;
        counted bigint;
        first_id uuid;
        last_id uuid;
      BEGIN
        parts := regexp_match(part, '^audit_entries_y([0-9]{4})m([0-9]{2})$');
        IF parts IS NULL THEN
          RAISE EXCEPTION 'not an audit partition name: %', part USING ERRCODE = '22023';
        END IF;
        IF months_kept IS NULL OR months_kept < 1 THEN
          RAISE EXCEPTION 'the months kept must be at least 1 (got %)', months_kept USING ERRCODE = '22023';
        END IF;
        IF manifest_digest IS NULL OR octet_length(manifest_digest) <> 32 THEN
          RAISE EXCEPTION 'the manifest digest must be a SHA-256' USING ERRCODE = '22023';
        END IF;
        from_at := make_timestamptz(parts[1]::integer, parts[2]::integer, 1, 0, 0, 0, 'UTC');
        to_at := from_at + interval '1 month';
        IF NOT EXISTS (
          SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = '${schema}.audit_entries'::regclass AND c.relname = part
             AND pg_get_expr(c.relpartbound, c.oid) = format('FOR VALUES FROM (%L) TO (%L)', from_at, to_at)
        ) THEN
          RAISE EXCEPTION 'no partition % of audit_entries with the range [%, %)', part, from_at, to_at USING ERRCODE = '42P01';
        END IF;
        IF to_at > now() - make_interval(months => months_kept) THEN
          RAISE EXCEPTION 'partition % ends at %, within the % months kept', part, to_at, months_kept USING ERRCODE = '55000';
        END IF;
        IF EXISTS (
          SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = '${schema}.audit_entries'::regclass AND c.relname < part
        ) THEN
          RAISE EXCEPTION 'partition % is not the oldest: older ones go first', part USING ERRCODE = '55000';
        END IF;
        -- Locked before counting: no row can come in between the count and the drop.
        EXECUTE format('LOCK TABLE %I.%I IN ACCESS EXCLUSIVE MODE', '${schema}', part);
        EXECUTE format('SELECT count(*) FROM %I.%I', '${schema}', part) INTO counted;
        EXECUTE format('SELECT event_id FROM %I.%I ORDER BY recorded_at, event_id LIMIT 1', '${schema}', part) INTO first_id;
        EXECUTE format('SELECT event_id FROM %I.%I ORDER BY recorded_at DESC, event_id DESC LIMIT 1', '${schema}', part) INTO last_id;
        IF counted <> rows_exported OR first_id IS DISTINCT FROM first_exported OR last_id IS DISTINCT FROM last_exported THEN
          RAISE EXCEPTION 'partition % holds % rows (% .. %), the export says % (% .. %)', part, counted, first_id, last_id, rows_exported, first_exported, last_exported
            USING ERRCODE = '55000';
        END IF;
        IF counted > 0 AND NOT EXISTS (SELECT 1 FROM ${s}.audit_seals seal WHERE seal.range_end >= to_at) THEN
          RAISE EXCEPTION 'partition % is not sealed through its end %', part, to_at USING ERRCODE = '55000';
        END IF;
        INSERT INTO ${s}.audit_exports (partition_name, range_start, range_end, row_count, first_event_id, last_event_id, manifest_sha256, retention_months)
          VALUES (part, from_at, to_at, counted, first_id, last_id, manifest_digest, months_kept);
        EXECUTE format('ALTER TABLE %I.audit_entries DETACH PARTITION %I.%I', '${schema}', '${schema}', part);
        EXECUTE format('DROP TABLE %I.%I', '${schema}', part);
        -- Its keys stay (they still refuse a replay of its event ids) until audit_release_dropped_keys
        -- deletes them in batches: deleting a month of keys here would hold the trail locked meanwhile.
      END $$`);
    await q.query(`REVOKE ALL ON FUNCTION ${s}.audit_drop_expired_partition(text, integer, bytea, bigint, uuid, uuid) FROM PUBLIC`);

    // Deletes up to `batch` keys of the months retention dropped (recorded before the end of the newest
    // export: drops go oldest first, so no entry is left there); how many. The keys' guard checks each.
    await q.query(`
      CREATE FUNCTION ${s}.audit_release_dropped_keys(batch integer) RETURNS integer
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
    await q.query(`REVOKE ALL ON FUNCTION ${s}.audit_release_dropped_keys(integer) FROM PUBLIC`);
  },

  async down(q, s) {
    await q.query(`DROP FUNCTION ${s}.audit_release_dropped_keys(integer)`);
    await q.query(`DROP FUNCTION ${s}.audit_drop_expired_partition(text, integer, bytea, bigint, uuid, uuid)`);
    await q.query(`DROP TABLE ${s}.audit_exports`);
    await q.query(`DROP FUNCTION ${s}.audit_exports_reject_change()`);
    await q.query(`ALTER TABLE ${s}.audit_entries RENAME TO audit_entries_partitioned`);
    await q.query(`ALTER TABLE ${s}.audit_entries_partitioned RENAME CONSTRAINT audit_entries_pkey TO audit_entries_partitioned_pkey`);
    await q.query(`CREATE TABLE ${s}.audit_entries (${COLUMNS}, CONSTRAINT audit_entries_pkey PRIMARY KEY (event_id))`);
    await q.query(`INSERT INTO ${s}.audit_entries (${COLUMN_NAMES}) SELECT ${COLUMN_NAMES} FROM ${s}.audit_entries_partitioned`);
    await q.query(`DROP TABLE ${s}.audit_entries_partitioned`);
    await q.query(`DROP FUNCTION ${s}.audit_entries_claim_key()`);
    await q.query(`DROP FUNCTION ${s}.audit_entries_create_partitions(timestamptz, integer)`);
    await q.query(`DROP FUNCTION ${s}.audit_entries_name_partition_indexes()`);
    await q.query(`DROP TABLE ${s}.audit_entry_keys`);
    await q.query(`DROP FUNCTION ${s}.audit_entry_keys_guard()`);
    await q.query(`CREATE UNIQUE INDEX audit_entries_one_attempt_key ON ${s}.audit_entries (correlation_id) WHERE outcome = 'attempted'`);
    await q.query(`CREATE UNIQUE INDEX audit_entries_one_outcome_key ON ${s}.audit_entries (correlation_id) WHERE outcome <> 'attempted'`);
    await createIndexes(q, s);
    await createAppendOnlyTriggers(q, s);
  },
};
