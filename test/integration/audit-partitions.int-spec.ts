import { runSessionsMigrations, sealAuditEntries, verifyAuditExport, verifyAuditSeals } from '@app/sessions';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { AuditTrail } from '../../libs/sessions/src/application/audit/audit-trail';
import { AuditRetention } from '../../libs/sessions/src/application/audit-retention/audit-retention';
import { AUDIT_PARTITIONS, AuditPartitions } from '../../libs/sessions/src/application/ports/audit-partitions.port';
import { AuditEntriesRejectedError, AuditEntry, AuditOutcomeUnavailableError } from '../../libs/sessions/src/application/ports/audit-log.port';
import { UNIT_OF_WORK, UnitOfWork } from '../../libs/sessions/src/application/ports/unit-of-work.port';
import { AuditRetentionPolicy } from '../../libs/sessions/src/application/settings';
import { insertAuditEntries } from '../../libs/sessions/src/infrastructure/typeorm/audit-entry.sql';
import { revertLast, runMigrationList } from '../../libs/sessions/src/infrastructure/typeorm/sessions-migrations';
import { SESSIONS_MIGRATIONS } from '../../libs/sessions/src/infrastructure/typeorm/schema';
import { TypeOrmAuditLog } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-audit-log';
import { TypeOrmAuditPartitions } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-audit-partitions';
import { buildService } from '../support/service-process';
import { sql, testDatabaseClient } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(120_000);

const exec = promisify(execFile);

/** `npm run audit:verify -- ARGS` as built, with no database and no .env: an export is checked offline. */
async function auditVerify(...args: string[]): Promise<{ code: number; line: Record<string, unknown> | undefined }> {
  const dir = await buildService();
  const lineOf = (output: string) =>
    output
      .split('\n')
      .filter((text) => text.startsWith('{'))
      .map((text) => JSON.parse(text) as Record<string, unknown>)
      .at(-1);
  try {
    const { stdout } = await exec(process.execPath, [path.join(dir, 'src/audit-verify.js'), ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '' } });
    return { code: 0, line: lineOf(stdout) };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, line: lineOf(failed.stderr) };
  }
}

/** The partition of the month `offset` months from the database's current one (UTC). */
function monthOf(offset: number): { name: string; start: Date } {
  const now = new Date();
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
  return { name: `audit_entries_y${start.getUTCFullYear()}m${String(start.getUTCMonth() + 1).padStart(2, '0')}`, start };
}
/** A time `days` (and a bit) into the month `offset` months from now. */
const inMonth = (offset: number, days = 3) => new Date(monthOf(offset).start.getTime() + days * 86_400_000 + 3_600_000).toISOString();

function entry(fields: Partial<AuditEntry> = {}): AuditEntry {
  return {
    eventId: randomUUID(),
    correlationId: randomUUID(),
    action: 'user.login',
    outcome: 'attempted',
    occurredAt: new Date(),
    userId: null,
    actorType: 'user',
    actorId: null,
    actorName: null,
    sessionId: null,
    reason: null,
    ipAddress: '203.0.113.4',
    userAgent: 'partition-test',
    requestId: null,
    details: { n: 1 },
    ...fields,
  };
}

/** Inserts an entry as SQL would, with recorded_at given (a past month's). */
async function insertAt(
  url: string,
  schema: string,
  recordedAt: string,
  fields: { eventId?: string; correlationId?: string; outcome?: string; reason?: string; userId?: string } = {},
) {
  const eventId = fields.eventId ?? randomUUID();
  const rows = await sql(
    url,
    `INSERT INTO ${schema}.audit_entries (event_id, correlation_id, action, outcome, occurred_at, actor_type, reason, details, recorded_at, user_id)
     VALUES ($1, $2, 'user.login', $3, $4, 'user', $5, '{"k":"v"}', $4, $6) RETURNING event_id`,
    [eventId, fields.correlationId ?? randomUUID(), fields.outcome ?? 'attempted', recordedAt, fields.reason ?? null, fields.userId ?? null],
  );
  return { eventId, inserted: rows.length };
}

const partitionsOf = async (url: string, schema: string) =>
  (
    await sql<{ name: string }>(
      url,
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass($1) ORDER BY 1`,
      [`${schema}.audit_entries`],
    )
  ).map((row) => row.name);

describe('the partitioned audit trail (real PostgreSQL)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let schemas = 0;
  const freshTrail = async () => {
    const schema = `parts_${++schemas}`;
    await runSessionsMigrations(dataSource, { schema });
    return schema;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('moves a plain trail into monthly partitions with every row and its keys, and down() brings the plain table back', async () => {
    const schema = `parts_${++schemas}`;
    // The migrations up to the partitioning, and through it: later ones are not this test's.
    const partitioning = SESSIONS_MIGRATIONS.findIndex((migration) => migration.name === 'PartitionedAuditTrail1764000001400');
    const throughPartitioning = SESSIONS_MIGRATIONS.slice(0, partitioning + 1);
    await runMigrationList(dataSource, SESSIONS_MIGRATIONS.slice(0, partitioning), { schema });
    const old = await insertAt(database.url, schema, inMonth(-5));
    const correlationId = randomUUID();
    await insertAt(database.url, schema, inMonth(-1, 27), { correlationId });
    await insertAt(database.url, schema, inMonth(0, 0), { correlationId, outcome: 'succeeded' });
    const snapshot = () => sql(database.url, `SELECT * FROM ${schema}.audit_entries ORDER BY event_id`);
    const before = await snapshot();

    await runMigrationList(dataSource, throughPartitioning, { schema });

    expect(await snapshot()).toEqual(before);
    const [{ relkind }] = await sql<{ relkind: string }>(database.url, `SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`, [`${schema}.audit_entries`]);
    expect(relkind).toBe('p');
    // Every month from the oldest row's to three ahead, none missing.
    const expected = Array.from({ length: 9 }, (_, i) => monthOf(i - 5).name);
    expect(await partitionsOf(database.url, schema)).toEqual(expected);
    const [{ keys }] = await sql<{ keys: number }>(database.url, `SELECT count(*)::int AS keys FROM ${schema}.audit_entry_keys`);
    expect(keys).toBe(before.length);
    const [{ partition }] = await sql<{ partition: string }>(
      database.url,
      `SELECT tableoid::regclass::text AS partition FROM ${schema}.audit_entries WHERE event_id = $1`,
      [old.eventId],
    );
    expect(partition).toBe(`${schema}.${monthOf(-5).name}`);
    // The operation that began last month keeps its one outcome.
    await expect(insertAt(database.url, schema, inMonth(0, 1), { correlationId, outcome: 'failed' })).resolves.toMatchObject({ inserted: 0 });

    await expect(revertLast(dataSource, throughPartitioning, { schema })).resolves.toBe('PartitionedAuditTrail1764000001400');
    expect(await snapshot()).toEqual(before);
    const [{ relkind: plain }] = await sql<{ relkind: string }>(database.url, `SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`, [
      `${schema}.audit_entries`,
    ]);
    expect(plain).toBe('r');
    await expect(insertAt(database.url, schema, inMonth(0, 1), { correlationId, outcome: 'failed' })).rejects.toMatchObject({
      code: '23505',
      constraint: 'audit_entries_one_outcome_key',
    });
    await expect(sql(database.url, `UPDATE ${schema}.audit_entries SET reason = 'x'`)).rejects.toMatchObject({ code: '42501' });
    await runSessionsMigrations(dataSource, { schema });
    expect(await snapshot()).toEqual(before);
  });

  it('creates the partitions ahead once, whoever asks at the same time, and routes each entry to its month', async () => {
    const schema = await freshTrail();
    const partitions = [0, 1].map(() => new TypeOrmAuditPartitions(dataSource, () => dataSource.manager, schema));
    // The migration made the previous month, this one and three ahead; two creators asking for five ahead at once.
    const created = await Promise.all(partitions.map((p) => p.createAhead(5)));
    expect(created.flat().sort()).toEqual([monthOf(4).name, monthOf(5).name]);
    await expect(partitions[0].createAhead(5)).resolves.toEqual([]);
    expect(await partitionsOf(database.url, schema)).toEqual(Array.from({ length: 7 }, (_, i) => monthOf(i - 1).name));
    // A new month gets every index of the trail, named after the trail's.
    const indexes = await sql<{ name: string }>(database.url, `SELECT indexname AS name FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY 1`, [
      schema,
      monthOf(5).name,
    ]);
    expect(indexes.map((row) => row.name.replace(monthOf(5).name, 'audit_entries'))).toEqual(
      (
        await sql<{ name: string }>(
          database.url,
          `SELECT indexname AS name FROM pg_indexes WHERE schemaname = $1 AND tablename = 'audit_entries' ORDER BY replace(indexname, 'audit_entries', $2)`,
          [schema, monthOf(5).name],
        )
      ).map((row) => row.name),
    );
    expect(indexes.map((row) => row.name)).toContain(`${monthOf(5).name}_user_idx`);

    const now = entry();
    await insertAuditEntries(dataSource.manager, schema, [now]);
    const [{ partition }] = await sql<{ partition: string }>(
      database.url,
      `SELECT tableoid::regclass::text AS partition FROM ${schema}.audit_entries WHERE event_id = $1`,
      [now.eventId],
    );
    expect(partition).toBe(`${schema}.${monthOf(0).name}`);
    // No default partition: a time no partition holds is refused, not parked.
    await expect(insertAt(database.url, schema, inMonth(30))).rejects.toMatchObject({ code: '23514' });
  });

  it('creates the month an entry needs when the partition is missing, instead of giving the entry up', async () => {
    const schema = await freshTrail();
    // As if no instance had run for months: the current month's partition is gone.
    await sql(database.url, `DROP TABLE ${schema}.${monthOf(0).name}`);
    const audit = new TypeOrmAuditLog(dataSource, () => dataSource.manager, schema);
    const late = entry();
    await audit.append([late]);
    const [{ partition }] = await sql<{ partition: string }>(
      database.url,
      `SELECT tableoid::regclass::text AS partition FROM ${schema}.audit_entries WHERE event_id = $1`,
      [late.eventId],
    );
    expect(partition).toBe(`${schema}.${monthOf(0).name}`);
    await expect(sql(database.url, `TRUNCATE ${schema}.${monthOf(0).name}`)).rejects.toMatchObject({ code: '42501' });
    // A CHECK's 23514 is still the permanent refusal it was.
    await expect(audit.append([entry({ actorType: 'service', actorName: null })])).rejects.toBeInstanceOf(AuditEntriesRejectedError);
  });

  it('keeps one Attempted and one outcome per operation across a month boundary, and records an event id once', async () => {
    const schema = await freshTrail();
    const count = async (correlationId: string) =>
      (await sql<{ n: number }>(database.url, `SELECT count(*)::int AS n FROM ${schema}.audit_entries WHERE correlation_id = $1`, [correlationId]))[0].n;
    // Attempted last month, its outcome this month.
    const attempted = await insertAt(database.url, schema, inMonth(-1, 27));
    const [{ correlation_id: correlationId }] = await sql<{ correlation_id: string }>(
      database.url,
      `SELECT correlation_id FROM ${schema}.audit_entries WHERE event_id = $1`,
      [attempted.eventId],
    );
    const succeeded = entry({ correlationId, outcome: 'succeeded' });
    await insertAuditEntries(dataSource.manager, schema, [succeeded], 'refuse');
    expect(await count(correlationId)).toBe(2);

    // A second outcome: dropped when written after the fact, refused with a change.
    await insertAuditEntries(dataSource.manager, schema, [entry({ correlationId, outcome: 'failed' })]);
    await expect(insertAuditEntries(dataSource.manager, schema, [entry({ correlationId, outcome: 'succeeded' })], 'refuse')).rejects.toBeInstanceOf(
      AuditOutcomeUnavailableError,
    );
    // A second Attempted this month, and the outcome again under its own event id in another month.
    await insertAuditEntries(dataSource.manager, schema, [entry({ correlationId })]);
    await expect(insertAt(database.url, schema, inMonth(2), { eventId: succeeded.eventId, correlationId, outcome: 'succeeded' })).resolves.toMatchObject({
      inserted: 0,
    });
    expect(await count(correlationId)).toBe(2);

    // The same event id recorded twice, once now and once (a retry) in another month: one row.
    const once = entry();
    await insertAuditEntries(dataSource.manager, schema, [once, once]);
    await insertAuditEntries(dataSource.manager, schema, [once]);
    await expect(insertAt(database.url, schema, inMonth(1), { eventId: once.eventId })).resolves.toMatchObject({ inserted: 0 });
    expect(await count(once.correlationId)).toBe(1);
  });

  it("links a user to their operations' entries that do not name them, whichever entry comes first, and guards the links", async () => {
    const schema = await freshTrail();
    const links = async () =>
      (
        await sql<{ user_id: string; event_id: string }>(
          database.url,
          `SELECT user_id::text, event_id::text FROM ${schema}.audit_user_entries ORDER BY user_id, event_id`,
        )
      ).map((row) => `${row.user_id} ${row.event_id}`);
    const [ada, bea, cyd, dan] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    // A login: its Attempted names nobody, its outcome the user; in this order and in the other.
    const login = randomUUID();
    const loginAttempted = await insertAt(database.url, schema, inMonth(0), { correlationId: login });
    await insertAt(database.url, schema, inMonth(0), { correlationId: login, outcome: 'succeeded', userId: ada });
    const late = randomUUID();
    await insertAt(database.url, schema, inMonth(0), { correlationId: late, outcome: 'failed', userId: bea });
    const lateAttempted = await insertAt(database.url, schema, inMonth(0), { correlationId: late });
    // A logout names its user in both entries: nothing to link. An operation whose entries name two users links each to the other's.
    const logout = randomUUID();
    await insertAt(database.url, schema, inMonth(0), { correlationId: logout, userId: cyd });
    await insertAt(database.url, schema, inMonth(0), { correlationId: logout, outcome: 'succeeded', userId: cyd });
    const handover = randomUUID();
    const fromCyd = await insertAt(database.url, schema, inMonth(0), { correlationId: handover, userId: cyd });
    const toDan = await insertAt(database.url, schema, inMonth(0), { correlationId: handover, outcome: 'succeeded', userId: dan });
    // A repeated entry is dropped by its key, and links nothing more.
    await insertAt(database.url, schema, inMonth(0), { correlationId: login, outcome: 'failed', userId: dan });
    expect(await links()).toEqual(
      [`${ada} ${loginAttempted.eventId}`, `${bea} ${lateAttempted.eventId}`, `${cyd} ${toDan.eventId}`, `${dan} ${fromCyd.eventId}`].sort(),
    );
    // Each user's page holds their operations whole.
    const auditLog = new TypeOrmAuditLog(dataSource, () => dataSource.manager, schema);
    const page = async (userId: string) => (await auditLog.query({ userId, limit: 10 })).entries.map((e) => `${e.correlationId} ${e.outcome}`).sort();
    expect(await page(ada)).toEqual([`${login} attempted`, `${login} succeeded`]);
    expect(await page(bea)).toEqual([`${late} attempted`, `${late} failed`]);
    expect(await page(dan)).toEqual([`${handover} attempted`, `${handover} succeeded`]);
    expect(await page(cyd)).toEqual([`${logout} attempted`, `${logout} succeeded`, `${handover} attempted`, `${handover} succeeded`].sort());
    await expect(sql(database.url, `UPDATE ${schema}.audit_user_entries SET user_id = $1`, [dan])).rejects.toMatchObject({ code: '42501' });
    await expect(sql(database.url, `DELETE FROM ${schema}.audit_user_entries`)).rejects.toMatchObject({ code: '42501' });
    await expect(sql(database.url, `TRUNCATE ${schema}.audit_user_entries`)).rejects.toMatchObject({ code: '42501' });
  });

  it('builds the links of the trail already there when it migrates', async () => {
    const schema = `parts_${++schemas}`;
    const upTo = SESSIONS_MIGRATIONS.findIndex((m) => m.name === 'AuditUserEntries1764000001600');
    await runMigrationList(dataSource, SESSIONS_MIGRATIONS.slice(0, upTo), { schema });
    const user = randomUUID();
    const correlationId = randomUUID();
    const attempted = await insertAt(database.url, schema, inMonth(0), { correlationId });
    await insertAt(database.url, schema, inMonth(0), { correlationId, outcome: 'succeeded', userId: user });
    const throughLinks = SESSIONS_MIGRATIONS.slice(0, upTo + 1);
    await runMigrationList(dataSource, throughLinks, { schema });
    await expect(sql(database.url, `SELECT user_id::text, event_id::text FROM ${schema}.audit_user_entries`)).resolves.toEqual([
      { user_id: user, event_id: attempted.eventId },
    ]);
    await revertLast(dataSource, throughLinks, { schema });
    await expect(sql(database.url, `SELECT to_regclass('${schema}.audit_user_entries') AS t`)).resolves.toEqual([{ t: null }]);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on the trail, on each partition (one created later too) and on the keys', async () => {
    const schema = await freshTrail();
    await insertAt(database.url, schema, inMonth(0));
    await new TypeOrmAuditPartitions(dataSource, () => dataSource.manager, schema).createAhead(6);
    const later = monthOf(6).name;
    await insertAt(database.url, schema, inMonth(6));
    for (const table of ['audit_entries', monthOf(0).name, later]) {
      await expect(sql(database.url, `UPDATE ${schema}.${table} SET reason = 'x'`)).rejects.toMatchObject({ code: '42501' });
      await expect(sql(database.url, `DELETE FROM ${schema}.${table}`)).rejects.toMatchObject({ code: '42501' });
      await expect(sql(database.url, `TRUNCATE ${schema}.${table}`)).rejects.toMatchObject({ code: '42501' });
    }
    await expect(sql(database.url, `UPDATE ${schema}.audit_entry_keys SET outcome = 'failed'`)).rejects.toMatchObject({ code: '42501' });
    await expect(sql(database.url, `DELETE FROM ${schema}.audit_entry_keys`)).rejects.toMatchObject({ code: '42501' });
    await expect(sql(database.url, `TRUNCATE ${schema}.audit_entry_keys`)).rejects.toMatchObject({ code: '42501' });
    const [{ n }] = await sql<{ n: number }>(database.url, `SELECT count(*)::int AS n FROM ${schema}.audit_entries`);
    expect(n).toBe(2);
  });

  it('drops a partition only through its function: past retention, the oldest, counted as exported', async () => {
    const schema = await freshTrail();
    const drop = (name: string, months: number, rows: number) =>
      sql(database.url, `SELECT ${schema}.audit_drop_expired_partition($1, $2, $3, $4, NULL, NULL)`, [name, months, Buffer.alloc(32, 1), rows]);
    await expect(drop(monthOf(0).name, 1, 0)).rejects.toMatchObject({ code: '55000', message: expect.stringContaining('within the 1 months kept') });
    await expect(drop('audit_entries', 1, 0)).rejects.toMatchObject({ code: '22023' });
    await expect(drop(monthOf(-1).name, 0, 0)).rejects.toMatchObject({ code: '22023' });
    await insertAt(database.url, schema, inMonth(-1));
    // The previous month ended at the start of this one: within one month kept, whatever the day.
    await expect(
      sql(database.url, `SELECT ${schema}.audit_drop_expired_partition($1, 1, $2, 0, NULL, NULL)`, [monthOf(-1).name, Buffer.alloc(32)]),
    ).rejects.toMatchObject({ code: '55000' });
    // Two old months, the older one empty: the newer may not go first, and goes only as exported and sealed.
    for (const offset of [-3, -2]) await sql(database.url, `SELECT ${schema}.audit_entries_create_partitions($1, 1)`, [monthOf(offset).start.toISOString()]);
    const { eventId } = await insertAt(database.url, schema, inMonth(-2));
    const dropWithIds = (name: string, rows: number) =>
      sql(database.url, `SELECT ${schema}.audit_drop_expired_partition($1, 1, $2, $3, $4, $4)`, [name, Buffer.alloc(32, 1), rows, eventId]);
    await expect(dropWithIds(monthOf(-2).name, 1)).rejects.toMatchObject({ code: '55000', message: expect.stringContaining('is not the oldest') });
    await expect(drop(monthOf(-3).name, 1, 0)).resolves.toHaveLength(1);
    // Keys are released only below the dropped months: the live month's entry keeps its key.
    await expect(sql(database.url, `SELECT ${schema}.audit_release_dropped_keys(100) AS released`)).resolves.toEqual([{ released: 0 }]);
    await expect(sql(database.url, `SELECT count(*)::int AS n FROM ${schema}.audit_entry_keys WHERE event_id = $1`, [eventId])).resolves.toEqual([{ n: 1 }]);
    await expect(dropWithIds(monthOf(-2).name, 2)).rejects.toMatchObject({ code: '55000', message: expect.stringContaining('the export says 2') });
    await expect(dropWithIds(monthOf(-2).name, 1)).rejects.toMatchObject({ code: '55000', message: expect.stringContaining('is not sealed through its end') });
    expect(await partitionsOf(database.url, schema)).toEqual([monthOf(-2).name, ...Array.from({ length: 5 }, (_, i) => monthOf(i - 1).name)]);
    await expect(sql(database.url, `SELECT partition_name, row_count::int FROM ${schema}.audit_exports`)).resolves.toEqual([
      { partition_name: monthOf(-3).name, row_count: 0 },
    ]);
    const [{ execute }] = await sql<{ execute: boolean }>(database.url, `SELECT has_function_privilege('public', $1, 'EXECUTE') AS execute`, [
      `${schema}.audit_drop_expired_partition(text, integer, bytea, bigint, uuid, uuid)`,
    ]);
    expect(execute).toBe(false);
  });
});

describe('retention of the audit trail (export, drop, audited, verified offline)', () => {
  let stack: TestStack;
  let exportDir: string;
  const schema = 'sessions';
  const policy = (fields: Partial<AuditRetentionPolicy> = {}): AuditRetentionPolicy => ({
    months: 1,
    exportDirectory: exportDir,
    intervalSeconds: 0,
    partitionsAhead: 3,
    ...fields,
  });
  const retention = (now: Date, fields: Partial<AuditRetentionPolicy> = {}) =>
    new AuditRetention(
      stack.web.get<UnitOfWork>(UNIT_OF_WORK),
      stack.web.get<AuditPartitions>(AUDIT_PARTITIONS),
      { now: () => now },
      policy(fields),
      stack.web.get(AuditTrail),
    );

  beforeAll(async () => {
    exportDir = await mkdtemp(path.join(tmpdir(), 'audit-exports-'));
    stack = await startTestStack({
      label: 'audit-partitions',
      redis: false,
      sessions: { auditSealIntervalSeconds: 0, auditRetention: { intervalSeconds: 0 } },
    });
  });

  afterAll(async () => {
    await stack?.close();
    if (exportDir) await rm(exportDir, { recursive: true, force: true });
  });

  it('exports a partition past retention, drops it with its keys, records both, and the export verifies offline until edited', async () => {
    const url = stack.databaseUrl;
    const old = monthOf(-2);
    await sql(url, `SELECT ${schema}.audit_entries_create_partitions($1, 1)`, [old.start.toISOString()]);
    const ids: string[] = [];
    for (let n = 0; n < 5; n += 1) ids.push((await insertAt(url, schema, inMonth(-2, 10 + n), { reason: `r${n}` })).eventId);
    // An operation that began in the old month and ended in the next one.
    const correlationId = randomUUID();
    ids.push((await insertAt(url, schema, inMonth(-2, 27), { correlationId })).eventId);
    const user = randomUUID();
    await insertAt(url, schema, inMonth(-1, 0), { correlationId, outcome: 'succeeded', userId: user });
    for (;;) if ((await sealAuditEntries(stack.runtime.dataSource, { schema })).seals.length === 0) break;

    // By a clock of six weeks ago nothing has outlived one month yet.
    const early = await retention(new Date(Date.now() - 42 * 86_400_000)).run();
    expect(early).toMatchObject({ expired: [], retained: [] });
    // Without an export directory, nothing is dropped.
    await expect(retention(new Date(), { exportDirectory: null }).run()).resolves.toMatchObject({
      expired: [old.name],
      retained: [],
      exportDirectoryMissing: true,
    });
    expect(await partitionsOf(url, schema)).toContain(old.name);

    const report = await retention(new Date()).run();
    const directory = path.join(exportDir, old.name);
    expect(report.retained).toEqual([{ partition: old.name, kind: 'dropped', rows: 6, manifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/), directory }]);
    const { manifestSha256 } = report.retained[0] as { manifestSha256: string };
    // Its keys, and the link of the user whose login began there, released after the drop in batches of their own.
    expect(report.keysReleased).toBe(7);
    await expect(sql(url, `SELECT count(*)::int AS n FROM ${schema}.audit_user_entries WHERE user_id = $1`, [user])).resolves.toEqual([{ n: 0 }]);
    expect(await partitionsOf(url, schema)).not.toContain(old.name);
    await expect(sql(url, `SELECT count(*)::int AS n FROM ${schema}.audit_entry_keys WHERE event_id = ANY($1)`, [ids])).resolves.toEqual([{ n: 0 }]);
    await expect(
      sql(url, `SELECT partition_name, row_count::int, encode(manifest_sha256, 'hex') AS digest, retention_months FROM ${schema}.audit_exports`),
    ).resolves.toEqual([{ partition_name: old.name, row_count: 6, digest: manifestSha256, retention_months: 1 }]);
    await expect(sql(url, `UPDATE ${schema}.audit_exports SET row_count = 0`)).rejects.toMatchObject({ code: '42501' });
    // The operation across the boundary still refuses a second outcome.
    await expect(insertAt(url, schema, inMonth(0, 0), { correlationId, outcome: 'failed' })).resolves.toMatchObject({ inserted: 0 });

    await stack.settleAudit();
    const audited = await sql<{ outcome: string; actor_type: string; details: Record<string, unknown> }>(
      url,
      `SELECT outcome, actor_type, details FROM ${schema}.audit_entries WHERE action = 'audit.retention' ORDER BY event_id`,
    );
    expect(audited.map((row) => row.outcome)).toEqual(['attempted', 'succeeded']);
    expect(audited[1]).toMatchObject({ actor_type: 'system', details: { partition: old.name, rows: 6, manifestSha256, retentionMonths: 1 } });

    // The live trail still verifies: the dropped range's seals as a chain, its entries in the export.
    await expect(verifyAuditSeals(stack.runtime.dataSource, { schema })).resolves.toMatchObject({ ok: true });

    const read = async () => ({
      manifest: await readFile(path.join(directory, 'manifest.json')),
      entries: await readFile(path.join(directory, 'entries.ndjson')),
      seals: await readFile(path.join(directory, 'seals.ndjson')),
    });
    const files = await read();
    expect(verifyAuditExport(files, manifestSha256)).toEqual({ ok: true, manifestSha256, partition: old.name, entries: 6, seals: expect.any(Number) });
    const lines = files.entries.toString('utf8').trimEnd().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { eventId: string }).eventId)).toEqual(ids);
    expect((JSON.parse(lines[0]) as { recordedAt: string }).recordedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);

    // One line edited: the file's digest is wrong and the entry is named.
    const edited = [...lines];
    edited[2] = edited[2].replace('"reason":"r2"', '"reason":"r9"');
    expect(verifyAuditExport({ ...files, entries: Buffer.from(`${edited.join('\n')}\n`) })).toMatchObject({
      ok: false,
      files: [{ file: 'entries.ndjson', problem: 'sha256' }],
      firstMismatch: { eventId: ids[2], reason: 'changed', line: 3 },
    });
    // A line removed: the entry is missing from its seal.
    expect(verifyAuditExport({ ...files, entries: Buffer.from(`${lines.filter((_, i) => i !== 4).join('\n')}\n`) })).toMatchObject({
      ok: false,
      firstMismatch: { eventId: ids[4], reason: 'missing' },
    });
    // The manifest edited: its digests no longer describe the files, or it is not the one recorded.
    const manifest = JSON.parse(files.manifest.toString('utf8')) as { entries: { lines: number } };
    manifest.entries.lines = 5;
    const forged = Buffer.from(JSON.stringify(manifest));
    expect(verifyAuditExport({ ...files, manifest: forged })).toMatchObject({
      ok: false,
      files: [{ file: 'entries.ndjson', problem: 'lines', expected: 5, actual: 6 }],
    });
    expect(verifyAuditExport({ ...files, manifest: Buffer.from(`${files.manifest.toString('utf8')} `) }, manifestSha256)).toMatchObject({
      ok: false,
      files: [{ file: 'manifest.json', problem: 'sha256', expected: manifestSha256 }],
    });
    // A seal of the export edited: the chain breaks at it.
    const sealLines = files.seals.toString('utf8').trimEnd().split('\n');
    const seal = JSON.parse(sealLines[1]) as { entryCount: number };
    seal.entryCount += 1;
    sealLines[1] = JSON.stringify(seal);
    expect(verifyAuditExport({ ...files, seals: Buffer.from(`${sealLines.join('\n')}\n`) })).toMatchObject({
      ok: false,
      firstMismatch: { reason: 'chain_broken', line: 2 },
    });

    // The command reads the directory: verified, then, with the line edited on disk, the entry named.
    await expect(auditVerify('--export', directory, '--manifest-sha256', manifestSha256)).resolves.toMatchObject({
      code: 0,
      line: { msg: 'audit_export_verified', partition: old.name, entries: 6, manifestSha256 },
    });
    await writeFile(path.join(directory, 'entries.ndjson'), `${edited.join('\n')}\n`);
    expect(verifyAuditExport(await read(), manifestSha256)).toMatchObject({ ok: false, firstMismatch: { eventId: ids[2] } });
    await expect(auditVerify('--export', directory)).resolves.toMatchObject({
      code: 3,
      line: { msg: 'audit_export_mismatch', firstMismatch: { eventId: ids[2], reason: 'changed', line: 3 } },
    });
    await expect(auditVerify('--export', path.join(exportDir, 'nothing-here'))).resolves.toMatchObject({ code: 2 });
    await expect(auditVerify('--export', directory, '--from', '2026-01-01T00:00:00Z')).resolves.toMatchObject({ code: 2 });
  });

  it('leaves a partition to the instance that holds the retention lock, and records that it did', async () => {
    const url = stack.databaseUrl;
    const old = monthOf(-3);
    await sql(url, `SELECT ${schema}.audit_entries_create_partitions($1, 1)`, [old.start.toISOString()]);
    const other = testDatabaseClient(url);
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT pg_advisory_xact_lock(hashtextextended('${schema}.audit_retention', 0))`);
      await expect(retention(new Date()).run()).resolves.toMatchObject({ expired: [old.name], retained: [{ partition: old.name, kind: 'other_instance' }] });
      expect(await partitionsOf(url, schema)).toContain(old.name);
      await other.query('COMMIT');
    } finally {
      await other.end();
    }
    await expect(retention(new Date()).run()).resolves.toMatchObject({ retained: [{ partition: old.name, kind: 'dropped', rows: 0 }] });
    expect(await partitionsOf(url, schema)).not.toContain(old.name);
    await stack.settleAudit();
    const audited = await sql<{ outcome: string; details: Record<string, unknown> }>(
      url,
      `SELECT outcome, details FROM ${schema}.audit_entries WHERE action = 'audit.retention' AND details->>'partition' = $1 ORDER BY event_id`,
      [old.name],
    );
    expect(audited.map((row) => [row.outcome, row.details.stoppedBy ?? null, row.details.rows ?? null])).toEqual([
      ['attempted', null, null],
      ['succeeded', 'other_instance', null],
      ['attempted', null, null],
      ['succeeded', null, 0],
    ]);
  });
});
