import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { runSessionsMigrations, sealAuditEntries, verifyAuditSeals } from '@app/sessions';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { AuditEntry } from '../../libs/sessions/src/application/ports/audit-log.port';
import { entryHash, SEALED_COLUMNS, unpackLeaves } from '../../libs/sessions/src/application/audit-seals/sealed-entry';
import { AuditSealer } from '../../libs/sessions/src/infrastructure/typeorm/audit-sealer';
import { TypeOrmAuditLog } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-audit-log';
import { buildService } from '../support/service-process';
import { sql } from '../support/sql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(120_000);

const exec = promisify(execFile);

/**
 * The seals against PostgreSQL. The tests connect as postgres, a superuser: the one role that can
 * disable the append-only triggers, which is what a seal must catch. Each test seals a trail of its
 * own, in a schema of its own, written by SQL with recorded_at in the past (settled) unless it says.
 */
let database: TestDatabase;
let dataSource: DataSource;
let schemaCount = 0;

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** UTC midnight two days ago: the tests' entries are days old (settled), on days of their own. */
const BASE = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
/** An ISO time `offset` ms after BASE, as a client writes one. */
const at = (offset: number) => new Date(BASE + offset).toISOString();
/** The same time as a seal reads it: six fraction digits. */
const sealTime = (offset: number) => at(offset).replace('Z', '000Z');

beforeAll(async () => {
  database = await createTestDatabase();
  dataSource = new DataSource({ type: 'postgres', url: database.url });
  await dataSource.initialize();
});

afterAll(async () => {
  await dataSource?.destroy();
  await database?.drop();
});

async function freshTrail(): Promise<string> {
  const schema = `seals_${++schemaCount}`;
  await runSessionsMigrations(dataSource, { schema });
  return schema;
}

/** One entry recorded at `recordedAt` (a settled time unless told), with a reason and details of its own. */
async function insertEntry(schema: string, recordedAt: string, reason = `r-${randomUUID().slice(0, 8)}`): Promise<string> {
  const eventId = randomUUID();
  await sql(
    database.url,
    `INSERT INTO ${schema}.audit_entries (event_id, correlation_id, action, outcome, occurred_at, user_id, actor_type, reason, ip_address, user_agent, details, recorded_at)
     VALUES ($1, $2, 'user.login', 'failed', $3, $4, 'user', $5, '203.0.113.9', 'seal-test', $6, $3)`,
    [eventId, randomUUID(), recordedAt, randomUUID(), reason, JSON.stringify({ zeta: 1, alpha: { nested: 'é', list: [3, 1] } })],
  );
  return eventId;
}

/** `count` entries, one a second from `start`. */
async function insertEntries(schema: string, start: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n += 1) ids.push(await insertEntry(schema, new Date(Date.parse(start) + n * 1000).toISOString()));
  return ids;
}

/** Runs `statement` on a table of the library's with its append-only triggers off, as only a superuser can. */
async function asSuperuserBehindTheTriggers(schema: string, table: 'audit_entries' | 'audit_seals', statement: string, params: unknown[] = []): Promise<void> {
  await sql(database.url, `ALTER TABLE ${schema}.${table} DISABLE TRIGGER USER`);
  try {
    await sql(database.url, statement, params);
  } finally {
    await sql(database.url, `ALTER TABLE ${schema}.${table} ENABLE TRIGGER USER`);
  }
}

async function sealedIds(schema: string): Promise<string[]> {
  const rows = await sql<{ entry_hashes: Buffer }>(database.url, `SELECT entry_hashes FROM ${schema}.audit_seals ORDER BY id`);
  return rows.flatMap((row) => unpackLeaves(row.entry_hashes).map((leaf) => leaf.eventId));
}

describe('sealing the audit trail', () => {
  it('seals the settled entries in a chain of seals, one per UTC day at most, and verifies them', async () => {
    const schema = await freshTrail();
    const first = await insertEntries(schema, at(DAY - 2000), 4);
    const run = await sealAuditEntries(dataSource, { schema });
    expect(run.lockedElsewhere).toBe(false);
    expect(run.seals.map(({ rangeStart, rangeEnd, entryCount }) => ({ rangeStart, rangeEnd, entryCount }))).toEqual([
      // An entry at midnight opens the next day's seal: a range is [start, end).
      { rangeStart: sealTime(0), rangeEnd: sealTime(DAY), entryCount: 2 },
      { rangeStart: sealTime(DAY), rangeEnd: sealTime(2 * DAY), entryCount: 2 },
    ]);
    expect(await sealedIds(schema)).toEqual(first);
    await expect(verifyAuditSeals(dataSource, { schema })).resolves.toEqual({
      ok: true,
      seals: run.seals.length,
      entries: 4,
      sealedThrough: run.seals.at(-1)?.rangeEnd,
    });
    // Nothing new today: an empty range is sealed only once its day is over.
    await expect(sealAuditEntries(dataSource, { schema })).resolves.toEqual({ lockedElsewhere: false, seals: [] });
  });

  it('leaves entries newer than the settle margin for a later seal, and seals what the library itself wrote', async () => {
    const schema = await freshTrail();
    const settled = await insertEntries(schema, at(DAY + 10 * HOUR), 2);
    const auditLog = new TypeOrmAuditLog(dataSource, undefined, schema);
    const fresh: AuditEntry = {
      eventId: randomUUID(),
      correlationId: randomUUID(),
      action: 'user.login',
      outcome: 'attempted',
      occurredAt: new Date(),
      userId: null,
      actorType: 'user',
      actorId: null,
      sessionId: null,
      reason: null,
      ipAddress: '198.51.100.4',
      userAgent: 'Mözilla/5.0 😀',
      requestId: 'req-1',
      actorName: null,
      details: { instance: randomUUID(), b: [1, { y: 2, x: null }] },
    };
    await auditLog.append([fresh]);

    await sealAuditEntries(dataSource, { schema });
    expect(await sealedIds(schema)).toEqual(settled);
    // recorded_at is now(): inside the default two minutes it is not settled yet.
    await sealAuditEntries(dataSource, { schema, settleSeconds: 0 });
    expect(await sealedIds(schema)).toEqual([...settled, fresh.eventId]);
    await expect(verifyAuditSeals(dataSource, { schema })).resolves.toMatchObject({ ok: true, entries: 3 });
  });

  it('takes all the entries of one timestamp into one seal, however many (one transaction is one recorded_at)', async () => {
    const schema = await freshTrail();
    const sameInstant = at(DAY + 10 * HOUR).replace('.000Z', '.123456Z');
    const batch = [await insertEntry(schema, sameInstant), await insertEntry(schema, sameInstant), await insertEntry(schema, sameInstant)];
    const later = await insertEntry(schema, at(DAY + 10 * HOUR + 1000));
    const run = await sealAuditEntries(dataSource, { schema, maxEntriesPerSeal: 2 });
    expect(run.seals.map(({ rangeStart, rangeEnd, entryCount }) => ({ rangeStart, rangeEnd, entryCount }))).toEqual([
      { rangeStart: sealTime(DAY), rangeEnd: sealTime(DAY + 10 * HOUR + 1000), entryCount: 3 },
      { rangeStart: sealTime(DAY + 10 * HOUR + 1000), rangeEnd: sealTime(2 * DAY), entryCount: 1 },
    ]);
    expect(await sealedIds(schema)).toEqual([...[...batch].sort(), later]);
    await expect(verifyAuditSeals(dataSource, { schema })).resolves.toMatchObject({ ok: true, entries: 4 });
  });

  it('seals each entry once with two sealers at once, and not at all while another holds the lock', async () => {
    const schema = await freshTrail();
    const ids = await insertEntries(schema, at(DAY + 10 * HOUR), 30);

    const holder = new Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${schema}.audit_seals`]);
      await expect(sealAuditEntries(dataSource, { schema })).resolves.toEqual({ lockedElsewhere: true, seals: [] });
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }

    const other = new DataSource({ type: 'postgres', url: database.url });
    await other.initialize();
    try {
      const runs = await Promise.all([
        sealAuditEntries(dataSource, { schema, maxEntriesPerSeal: 3 }),
        sealAuditEntries(other, { schema, maxEntriesPerSeal: 3 }),
        sealAuditEntries(dataSource, { schema, maxEntriesPerSeal: 3 }),
      ]);
      expect(runs.flatMap((run) => run.seals).reduce((sum, seal) => sum + seal.entryCount, 0)).toBe(30);
    } finally {
      await other.destroy();
    }
    await sealAuditEntries(dataSource, { schema, maxEntriesPerSeal: 3 });
    expect(await sealedIds(schema)).toEqual(ids);
    await expect(verifyAuditSeals(dataSource, { schema })).resolves.toMatchObject({ ok: true, entries: 30 });
  });

  it('runs in the module as AuditSealer: a round seals, and shutdown waits for it', async () => {
    const schema = await freshTrail();
    const ids = await insertEntries(schema, at(DAY + 10 * HOUR), 2);
    const sealer = new AuditSealer(dataSource, schema, 0);
    sealer.onApplicationBootstrap();
    const round = sealer.sealNow();
    expect(sealer.sealNow()).toBe(round);
    await sealer.onApplicationShutdown();
    expect(await sealedIds(schema)).toEqual(ids);
  });

  it('keeps audit_seals append-only for the roles the service runs as', async () => {
    const schema = await freshTrail();
    await insertEntries(schema, at(DAY + 10 * HOUR), 1);
    await sealAuditEntries(dataSource, { schema });
    await expect(sql(database.url, `UPDATE ${schema}.audit_seals SET entry_count = entry_count`)).rejects.toMatchObject({ code: '42501' });
    await expect(sql(database.url, `DELETE FROM ${schema}.audit_seals`)).rejects.toMatchObject({ code: '42501' });
    await expect(sql(database.url, `TRUNCATE ${schema}.audit_seals`)).rejects.toMatchObject({ code: '42501' });
  });

  it('hashes every column of audit_entries: a column added later must be added to the serialisation', async () => {
    const schema = await freshTrail();
    const all = await sql<{ column_name: string }>(
      database.url,
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'audit_entries'`,
      [schema],
    );
    expect(all.map((row) => row.column_name).sort()).toEqual([...SEALED_COLUMNS].sort());
  });
});

describe('verifying the seals after a superuser went behind the triggers', () => {
  it('names an edited entry as changed, and still passes a range that does not hold it', async () => {
    const schema = await freshTrail();
    const dayOne = await insertEntries(schema, at(10 * HOUR), 3);
    const dayTwo = await insertEntries(schema, at(DAY + 10 * HOUR), 3);
    await sealAuditEntries(dataSource, { schema });
    await asSuperuserBehindTheTriggers(schema, 'audit_entries', `UPDATE ${schema}.audit_entries SET reason = 'nothing happened' WHERE event_id = $1`, [
      dayTwo[1],
    ]);

    const verdict = await verifyAuditSeals(dataSource, { schema });
    const [dayTwoSeal] = await sql<{ id: string }>(database.url, `SELECT id::text FROM ${schema}.audit_seals WHERE range_start = $1`, [at(DAY)]);
    expect(verdict).toEqual({ ok: false, sealId: dayTwoSeal.id, firstMismatch: { eventId: dayTwo[1], reason: 'changed' } });
    await expect(verifyAuditSeals(dataSource, { schema, to: at(DAY) })).resolves.toMatchObject({ ok: true, entries: dayOne.length });
  });

  it('names a changed jsonb key, not only a changed column', async () => {
    const schema = await freshTrail();
    const [id] = await insertEntries(schema, at(DAY + 10 * HOUR), 1);
    await sealAuditEntries(dataSource, { schema });
    await asSuperuserBehindTheTriggers(schema, 'audit_entries', `UPDATE ${schema}.audit_entries SET details = details || '{"zeta": 2}' WHERE event_id = $1`, [
      id,
    ]);
    await expect(verifyAuditSeals(dataSource, { schema })).resolves.toMatchObject({ ok: false, firstMismatch: { eventId: id, reason: 'changed' } });
  });

  it('names a deleted entry as missing', async () => {
    const schema = await freshTrail();
    const ids = await insertEntries(schema, at(DAY + 10 * HOUR), 3);
    await sealAuditEntries(dataSource, { schema });
    await asSuperuserBehindTheTriggers(schema, 'audit_entries', `DELETE FROM ${schema}.audit_entries WHERE event_id = $1`, [ids[0]]);
    await expect(verifyAuditSeals(dataSource, { schema })).resolves.toMatchObject({ ok: false, firstMismatch: { eventId: ids[0], reason: 'missing' } });
  });

  it('names an entry recorded inside a sealed range afterwards as unsealed (no trigger stops an insert)', async () => {
    const schema = await freshTrail();
    await insertEntries(schema, at(DAY + 10 * HOUR), 3);
    await sealAuditEntries(dataSource, { schema });
    const backdated = await insertEntry(schema, at(DAY + 10 * HOUR + 1500));
    await expect(verifyAuditSeals(dataSource, { schema })).resolves.toMatchObject({ ok: false, firstMismatch: { eventId: backdated, reason: 'unsealed' } });
    // Before the trail's first seal too.
    const schemaTwo = await freshTrail();
    await insertEntries(schemaTwo, at(DAY + 10 * HOUR), 1);
    await sealAuditEntries(dataSource, { schema: schemaTwo });
    const earlier = await insertEntry(schemaTwo, at(-30 * DAY));
    await expect(verifyAuditSeals(dataSource, { schema: schemaTwo })).resolves.toMatchObject({
      ok: false,
      firstMismatch: { eventId: earlier, reason: 'unsealed' },
    });
  });

  it('reports a seal edited to cover an edited entry as chain_broken', async () => {
    const schema = await freshTrail();
    const ids = await insertEntries(schema, at(DAY + 10 * HOUR), 2);
    await sealAuditEntries(dataSource, { schema });
    const [seal] = await sql<{ id: string }>(database.url, `SELECT id::text AS id FROM ${schema}.audit_seals s ORDER BY s.id LIMIT 1`);
    // The edit a careful forger makes: the entry, then its leaf, so the entry matches the seal again.
    await asSuperuserBehindTheTriggers(schema, 'audit_entries', `UPDATE ${schema}.audit_entries SET reason = 'forged' WHERE event_id = $1`, [ids[0]]);
    await expect(verifyAuditSeals(dataSource, { schema })).resolves.toMatchObject({ firstMismatch: { eventId: ids[0], reason: 'changed' } });
    const [row] = await sql<Record<string, unknown>>(
      database.url,
      `SELECT ${SEALED_COLUMNS.map((c) => (c.endsWith('_at') ? `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')` : c) + ` AS "${c.replace(/_([a-z])/g, (_, l: string) => l.toUpperCase())}"`).join(', ')} FROM ${schema}.audit_entries WHERE event_id = $1`,
      [ids[0]],
    );
    const forgedLeaf = entryHash(row as never);
    await asSuperuserBehindTheTriggers(
      schema,
      'audit_seals',
      `UPDATE ${schema}.audit_seals SET entry_hashes = overlay(entry_hashes placing $1 from 17 for 32) WHERE id = $2`,
      [forgedLeaf, seal.id],
    );
    await expect(verifyAuditSeals(dataSource, { schema })).resolves.toEqual({
      ok: false,
      sealId: seal.id,
      firstMismatch: { eventId: null, reason: 'chain_broken' },
    });
  });

  it('reports a seal removed from the middle of the chain as chain_broken at the seal after it', async () => {
    const schema = await freshTrail();
    await insertEntries(schema, at(-DAY + 10 * HOUR), 1);
    await insertEntries(schema, at(10 * HOUR), 1);
    await insertEntries(schema, at(DAY + 10 * HOUR), 1);
    await sealAuditEntries(dataSource, { schema });
    const seals = await sql<{ id: string }>(database.url, `SELECT id::text AS id FROM ${schema}.audit_seals s ORDER BY s.id`);
    await asSuperuserBehindTheTriggers(schema, 'audit_seals', `DELETE FROM ${schema}.audit_seals WHERE id = $1`, [seals[1].id]);
    await expect(verifyAuditSeals(dataSource, { schema })).resolves.toEqual({
      ok: false,
      sealId: seals[2].id,
      firstMismatch: { eventId: null, reason: 'chain_broken' },
    });
  });
});

describe('npm run audit:verify (src/audit-verify.ts)', () => {
  /** The built CLI, without the build step, in the build's directory (no developer .env). */
  async function auditVerify(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const dir = await buildService();
    try {
      const { stdout, stderr } = await exec(process.execPath, [path.join(dir, 'src/audit-verify.js'), ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', ...env },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }
  const lineOf = (output: string, msg: string) =>
    output
      .split('\n')
      .filter((text) => text.startsWith('{'))
      .map((text) => JSON.parse(text) as Record<string, unknown>)
      .find((parsed) => parsed.msg === msg);

  it('prints the seals verified and exits 0, then names the edited entry and exits 3', async () => {
    await runSessionsMigrations(dataSource);
    const ids = await insertEntries('sessions', at(DAY + 10 * HOUR), 3);
    await sealAuditEntries(dataSource);
    const env = { DATABASE_URL: database.url };
    const clean = await auditVerify(env);
    expect(clean.code).toBe(0);
    expect(lineOf(clean.stdout, 'audit_seals_verified')).toMatchObject({ seals: 1, entries: 3, sealedThrough: sealTime(2 * DAY) });

    await asSuperuserBehindTheTriggers('sessions', 'audit_entries', `UPDATE sessions.audit_entries SET user_agent = 'someone else' WHERE event_id = $1`, [
      ids[2],
    ]);
    const tampered = await auditVerify(env);
    expect(tampered.code).toBe(3);
    expect(lineOf(tampered.stderr, 'audit_seals_mismatch')).toMatchObject({ sealId: '1', firstMismatch: { eventId: ids[2], reason: 'changed' } });
    // A range that ends before the seal's does not read it.
    await expect(auditVerify(env, '--to', at(DAY))).resolves.toMatchObject({ code: 0 });
  });

  it('refuses bad arguments and a missing DATABASE_URL with exit 2', async () => {
    await expect(auditVerify({ DATABASE_URL: database.url }, '--from', 'yesterday')).resolves.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('ISO 8601'),
    });
    await expect(auditVerify({ DATABASE_URL: database.url }, '--since', at(0))).resolves.toMatchObject({ code: 2 });
    await expect(auditVerify({})).resolves.toMatchObject({ code: 2, stderr: expect.stringContaining('DATABASE_URL is not set') });
  });
});
