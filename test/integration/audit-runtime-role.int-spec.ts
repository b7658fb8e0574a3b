import { runSessionsMigrations, sealAuditEntries, verifyAuditExport, verifyAuditSeals } from '@app/sessions';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { AuditTrail } from '../../libs/sessions/src/application/audit/audit-trail';
import { AuditRetention } from '../../libs/sessions/src/application/audit-retention/audit-retention';
import { AUDIT_PARTITIONS, AuditPartitions } from '../../libs/sessions/src/application/ports/audit-partitions.port';
import { UNIT_OF_WORK, UnitOfWork } from '../../libs/sessions/src/application/ports/unit-of-work.port';
import { bearer, login, meStatus, register, signUp, uniqueEmail } from '../support/api';
import { createRuntimeRole, type RuntimeRole } from '../support/runtime-role';
import { sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(120_000);

const ADMIN = { email: uniqueEmail('admin'), password: 'admin password 1' };

/**
 * docs/audit.md's claim, tested: the owner migrates, the service runs as a role granted only the
 * documented DML and EXECUTE on the three SECURITY DEFINER functions (the block in docs/audit.md,
 * run as written). That role has no DDL over the trail, yet the whole service works, retention's
 * export and drop included, because the drop goes through audit_drop_expired_partition's checks.
 */

/** The partition of the month `offset` months from the current one (UTC). */
function monthOf(offset: number): { name: string; start: Date } {
  const now = new Date();
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
  return { name: `audit_entries_y${start.getUTCFullYear()}m${String(start.getUTCMonth() + 1).padStart(2, '0')}`, start };
}
const inMonth = (offset: number, days: number) => new Date(monthOf(offset).start.getTime() + days * 86_400_000 + 3_600_000).toISOString();

/** Inserts an entry with recorded_at given (a past month's), on `url`'s connection (so as its role). */
async function insertAt(url: string, recordedAt: string, reason: string): Promise<string> {
  const eventId = randomUUID();
  await sql(
    url,
    `INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, actor_type, reason, details, recorded_at)
     VALUES ($1, $2, 'user.login', 'attempted', $3, 'user', $4, '{"k":"v"}', $3)`,
    [eventId, randomUUID(), recordedAt, reason],
  );
  return eventId;
}

const partitionsOf = async (url: string) =>
  (
    await sql<{ name: string; owner: string }>(
      url,
      `SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'sessions.audit_entries'::regclass ORDER BY 1`,
    )
  ).map((row) => ({ name: row.name, owner: row.owner }));

describe('the service as a runtime role that owns nothing (docs/audit.md, "Who can do what")', () => {
  let database: TestDatabase;
  let role: RuntimeRole | undefined;
  let stack: TestStack | undefined;
  let exportDir: string;
  let ownerName: string;
  let migratedPartitions: string[];

  beforeAll(async () => {
    exportDir = await mkdtemp(path.join(tmpdir(), 'audit-role-exports-'));
    database = await createTestDatabase();
    // The owner migrates (what `npm run migrate` does with the owner's DATABASE_URL).
    const owner = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    try {
      await runSessionsMigrations(owner);
    } finally {
      await owner.destroy();
    }
    [{ ownerName }] = await sql<{ ownerName: string }>(database.url, `SELECT current_user AS "ownerName"`);
    migratedPartitions = (await partitionsOf(database.url)).map((partition) => partition.name);
    role = await createRuntimeRole(database);
    stack = await startTestStack({
      label: 'audit-runtime-role',
      // Seeded at start-up by the role, too.
      admin: ADMIN,
      databaseUrl: role.url,
      // The role cannot migrate: the service only checks that the owner has.
      settings: { migrationsAtStartup: 'verify' },
      sessions: { auditSealIntervalSeconds: 0, auditRetention: { intervalSeconds: 0, partitionsAhead: 6, exportDirectory: exportDir } },
    });
  });

  afterAll(async () => {
    await stack?.close();
    // The database holds the role's grants: it goes first, then the role.
    await database?.drop();
    await role?.drop();
    if (exportDir) await rm(exportDir, { recursive: true, force: true });
  });

  const runtimeUrl = () => (role as RuntimeRole).url;
  const running = () => stack as TestStack;

  it('connects as the role, which is no superuser and owns nothing in the database', async () => {
    await expect(sql(runtimeUrl(), `SELECT current_user AS name, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser`)).resolves.toEqual([
      { name: role?.name, superuser: false },
    ]);
    await expect(
      sql(runtimeUrl(), `SELECT count(*)::int AS n FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)`),
    ).resolves.toEqual([{ n: 0 }]);
  });

  it('is refused every change to the trail but appending, and all DDL: by privilege, not by the service', async () => {
    const partition = migratedPartitions[0];
    // The triggers answer 42501 too ("append-only"): the messages show the privilege refused first.
    const refused: Array<[string, RegExp]> = [
      [`DELETE FROM audit_entries`, /^permission denied for table audit_entries$/],
      [`UPDATE audit_entries SET reason = 'edited'`, /^permission denied for table audit_entries$/],
      [`TRUNCATE audit_entries`, /^permission denied for table audit_entries$/],
      [`DELETE FROM ${partition}`, new RegExp(`^permission denied for table ${partition}$`)],
      [`UPDATE audit_seals SET entry_count = 0`, /^permission denied for table audit_seals$/],
      [`DELETE FROM audit_exports`, /^permission denied for table audit_exports$/],
      [`DELETE FROM audit_entry_keys`, /^permission denied for table audit_entry_keys$/],
      [`TRUNCATE audit_entry_keys`, /^permission denied for table audit_entry_keys$/],
      [`DROP TABLE ${partition}`, new RegExp(`^must be owner of table ${partition}$`)],
      [`ALTER TABLE audit_entries DETACH PARTITION ${partition}`, /^must be owner of table audit_entries$/],
      [`ALTER TABLE audit_entries DISABLE TRIGGER ALL`, /^must be owner of table audit_entries$/],
      [
        `CREATE TABLE sessions.audit_entries_y2099m01 PARTITION OF audit_entries FOR VALUES FROM ('2099-01-01') TO ('2099-02-01')`,
        /^permission denied for schema sessions$/,
      ],
      [`DROP FUNCTION audit_drop_expired_partition(text, integer, bytea, bigint, uuid, uuid)`, /^must be owner of function audit_drop_expired_partition$/],
    ];
    for (const [statement, message] of refused) {
      await expect(sql(runtimeUrl(), statement).then(() => `${statement}: allowed`)).rejects.toMatchObject({
        code: '42501',
        message: expect.stringMatching(message),
      });
    }
    // The function is its only way to drop a partition, and it checks: not a month still kept.
    const current = monthOf(0).name;
    await expect(sql(runtimeUrl(), `SELECT audit_drop_expired_partition($1, 1, $2, 0, NULL, NULL)`, [current, Buffer.alloc(32)])).rejects.toMatchObject({
      code: '55000',
      message: expect.stringContaining('within the 1 months kept'),
    });
    expect((await partitionsOf(database.url)).map((row) => row.name)).toEqual(expect.arrayContaining(migratedPartitions));
  });

  it('started as the role: verified the migrations and created the months ahead through the function, owned by the owner', async () => {
    const partitions = await partitionsOf(database.url);
    const created = partitions.filter((partition) => !migratedPartitions.includes(partition.name));
    // partitionsAhead 6 against the migration's 3: the start-up made the rest.
    expect(created.map((partition) => partition.name)).toEqual(expect.arrayContaining([monthOf(5).name, monthOf(6).name]));
    expect(new Set(partitions.map((partition) => partition.owner))).toEqual(new Set([ownerName]));
  });

  // Before any traffic is sealed: the old month's entries must come first in the seal chain.
  it('exports an expired partition, drops it through the function, releases its keys and audits it, as the role', async () => {
    const old = monthOf(-2);
    // The role creates the old month through the function, as the maintenance job would.
    await sql(runtimeUrl(), `SELECT audit_entries_create_partitions($1, 1)`, [old.start.toISOString()]);
    const ids: string[] = [];
    for (let n = 0; n < 5; n += 1) ids.push(await insertAt(runtimeUrl(), inMonth(-2, 10 + n), `r${n}`));
    for (;;) if ((await sealAuditEntries(running().runtime.dataSource)).seals.length === 0) break;

    const report = await new AuditRetention(
      running().web.get<UnitOfWork>(UNIT_OF_WORK),
      running().web.get<AuditPartitions>(AUDIT_PARTITIONS),
      { now: () => new Date() },
      { months: 1, exportDirectory: exportDir, intervalSeconds: 0, partitionsAhead: 6 },
      running().web.get(AuditTrail),
    ).run();

    const directory = path.join(exportDir, old.name);
    expect(report.retained).toEqual([{ partition: old.name, kind: 'dropped', rows: 5, manifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/), directory }]);
    const { manifestSha256 } = report.retained[0] as { manifestSha256: string };
    expect(report.keysReleased).toBe(5);
    expect((await partitionsOf(database.url)).map((row) => row.name)).not.toContain(old.name);
    await expect(sql(database.url, `SELECT count(*)::int AS n FROM audit_entry_keys WHERE event_id = ANY($1)`, [ids])).resolves.toEqual([{ n: 0 }]);
    await expect(
      sql(runtimeUrl(), `SELECT partition_name, row_count::int, encode(manifest_sha256, 'hex') AS digest, retention_months FROM audit_exports`),
    ).resolves.toEqual([{ partition_name: old.name, row_count: 5, digest: manifestSha256, retention_months: 1 }]);

    await running().settleAudit();
    const audited = await sql<{ outcome: string; actor_type: string; details: Record<string, unknown> }>(
      runtimeUrl(),
      `SELECT outcome, actor_type, details FROM audit_entries WHERE action = 'audit.retention' ORDER BY event_id`,
    );
    expect(audited.map((row) => row.outcome)).toEqual(['attempted', 'succeeded']);
    expect(audited[1]).toMatchObject({ actor_type: 'system', details: { partition: old.name, rows: 5, manifestSha256, retentionMonths: 1 } });

    await expect(verifyAuditSeals(running().runtime.dataSource)).resolves.toMatchObject({ ok: true });
    const files = {
      manifest: await readFile(path.join(directory, 'manifest.json')),
      entries: await readFile(path.join(directory, 'entries.ndjson')),
      seals: await readFile(path.join(directory, 'seals.ndjson')),
    };
    expect(verifyAuditExport(files, manifestSha256)).toMatchObject({ ok: true, partition: old.name, entries: 5 });
    const lines = files.entries.toString('utf8').trimEnd().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { eventId: string }).eventId)).toEqual(ids);
  });

  it('serves sign-up, sign-in, refresh and sign-out, audited and sealed, as the role', async () => {
    const account = await register(running());
    const signedIn = await login(running(), account.email, account.password);
    const refreshed = await running().http().post('/auth/refresh').send({ refreshToken: signedIn.refreshToken }).expect(200);
    await running()
      .http()
      .get('/auth/sessions')
      .set(...bearer(refreshed.body.accessToken))
      .expect(200);
    await running()
      .http()
      .post('/auth/logout')
      .set(...bearer(refreshed.body.accessToken))
      .send({ refreshToken: refreshed.body.refreshToken })
      .expect(200);
    expect(await meStatus(running(), refreshed.body.accessToken)).toBe(401);
    await running().http().post('/auth/refresh').send({ refreshToken: refreshed.body.refreshToken }).expect(401);

    await running().settleAudit();
    const audited = await sql<{ action: string; outcome: string }>(
      runtimeUrl(),
      `SELECT action, outcome FROM audit_entries WHERE user_id = $1 AND outcome <> 'attempted' ORDER BY event_id`,
      [account.userId],
    );
    expect(audited).toEqual(
      expect.arrayContaining([
        { action: 'user.register', outcome: 'succeeded' },
        { action: 'user.login', outcome: 'succeeded' },
        { action: 'user.logout', outcome: 'succeeded' },
      ]),
    );
    // The sealer appends to audit_seals on the role's connection.
    await expect(sealAuditEntries(running().runtime.dataSource)).resolves.toMatchObject({ seals: expect.any(Array) });
    await expect(verifyAuditSeals(running().runtime.dataSource)).resolves.toMatchObject({ ok: true });
  });

  it("serves the admin console's reads, its export and a forced revocation as the role", async () => {
    const admin = await login(running(), ADMIN.email, ADMIN.password);
    const devices = await signUp(running(), 2, 'victim');
    await running()
      .adminHttp()
      .get(`/admin/users/${devices[0].userId}/sessions`)
      .set(...bearer(admin.accessToken))
      .expect(200);
    const revoked = await running()
      .adminHttp()
      .post(`/admin/users/${devices[0].userId}/sessions/revoke-all`)
      .set(...bearer(admin.accessToken))
      .send({ reason: 'Runtime role check' })
      .expect(200);
    expect(revoked.body).toMatchObject({ revokedCount: 2, accessTokensValidUntil: expect.any(String) });
    for (const device of devices) expect(await meStatus(running(), device.accessToken)).toBe(401);
    await running().settleAudit();
    const audit = await running()
      .adminHttp()
      .get(`/admin/audit?userId=${devices[0].userId}`)
      .set(...bearer(admin.accessToken))
      .expect(200);
    expect(JSON.stringify(audit.body)).toContain('sessions.revoke_all');
    // The directory, the overview's figures and the streamed export read as the role too.
    await running()
      .adminHttp()
      .get('/admin/users')
      .set(...bearer(admin.accessToken))
      .expect(200);
    await running()
      .adminHttp()
      .get('/admin/overview')
      .set(...bearer(admin.accessToken))
      .expect(200);
    const exported = await running()
      .adminHttp()
      .get(`/admin/audit/export?format=ndjson&userId=${devices[0].userId}`)
      .set(...bearer(admin.accessToken))
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => done(null, text));
      })
      .expect(200);
    expect(exported.body as string).toContain('"sessions.revoke_all"');
  });

  it('logged no refusal of the database anywhere: start-up, background jobs and requests all had their grants', async () => {
    await running().settleAudit();
    expect(running().logs.lines.filter((line) => /permission denied|must be owner|42501/.test(line))).toEqual([]);
  });
});
