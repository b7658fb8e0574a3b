import { runSessionsMigrations } from '@app/sessions';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ExpiredSessionsPurge, type PurgeReport } from '../../libs/sessions/src/application/purge-expired-sessions/expired-sessions-purge';
import { deleteExpiredSessionsSql, deleteTokensOfExpiredSessionsSql } from '../../libs/sessions/src/infrastructure/typeorm/expired-records.sql';
import { START_OF_EXPIRED_SESSIONS } from '../../libs/sessions/src/application/ports/expired-records.port';
import { brokenTriads, sql, testDatabaseClient, TEST_SESSIONS_SCHEMA } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(120_000);

const DAY = 86_400;
/** Small batches, no pause: a handful of rows needs several batches of every kind. */
const PURGE = { batchSize: 3, pauseMs: 0, marginSeconds: 2 * DAY, intervalSeconds: 0 };

async function insertUser(url: string): Promise<string> {
  const id = randomUUID();
  await sql(url, `INSERT INTO users (id, email, password_hash, role, created_at) VALUES ($1, $2, 'x', 'user', now())`, [id, `${id}@example.com`]);
  return id;
}

/** A session expiring `expiresInDays` from now (negative: ago), with `tokens` refresh tokens. */
async function insertSession(url: string, userId: string, expiresInDays: number, tokens: number, revoked = false): Promise<string> {
  const id = randomUUID();
  await sql(
    url,
    `INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, revoked_at, revoked_reason)
     VALUES ($1, $2, now() - interval '40 days', now() - interval '40 days', now() + make_interval(days => $3),
             CASE WHEN $4 THEN now() - interval '39 days' END, CASE WHEN $4 THEN 'logout' END)`,
    [id, userId, expiresInDays, revoked],
  );
  for (let i = 0; i < tokens; i++) {
    // Only the newest may be live (one live token per session); the others were rotated away.
    await sql(
      url,
      `INSERT INTO refresh_tokens (id, session_id, user_id, token_hash, issued_at, expires_at, revoked_at)
       VALUES (gen_random_uuid(), $1, $2, sha256(gen_random_uuid()::text::bytea), now() - interval '40 days', now() + make_interval(days => $3),
               CASE WHEN $4 THEN NULL ELSE now() - interval '39 days' END)`,
      [id, userId, expiresInDays, i === tokens - 1 && !revoked],
    );
  }
  return id;
}

async function insertLockout(url: string, lockedUntilDaysAgo: number, clearedDaysAgo: number | null): Promise<string> {
  const email = `${randomUUID()}@example.com`;
  await sql(
    url,
    `INSERT INTO login_lockouts (email, network, failed_attempts, locked_at, locked_until, cleared_at)
     VALUES ($1, '203.0.113.7', 10, now() - make_interval(days => $2) - interval '15 minutes', now() - make_interval(days => $2),
             CASE WHEN $3::int IS NULL THEN NULL ELSE now() - make_interval(days => $3::int) END)`,
    [email, lockedUntilDaysAgo, clearedDaysAgo],
  );
  return email;
}

/** The audit entries of a session's login, as the command would have written them. */
async function insertAuditOf(url: string, userId: string, sessionId: string): Promise<void> {
  await sql(
    url,
    `INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, user_id, actor_type, actor_id, session_id, details)
     SELECT gen_random_uuid(), c.id, 'user.login', o.outcome, now() - interval '40 days', $1::uuid, 'user', $1::uuid, $2::uuid, '{}'
       FROM (SELECT gen_random_uuid() AS id) c, (VALUES ('attempted'), ('succeeded')) AS o(outcome)`,
    [userId, sessionId],
  );
}

const auditSnapshot = (url: string) => sql(url, `SELECT * FROM audit_entries WHERE action <> 'sessions.purge' ORDER BY event_id`);
const ids = async (url: string, table: 'sessions' | 'login_lockouts') =>
  (await sql<{ id: string }>(url, table === 'sessions' ? `SELECT id FROM sessions ORDER BY id` : `SELECT email AS id FROM login_lockouts ORDER BY email`)).map(
    (row) => row.id,
  );

describe('the purge of expired sessions (real PostgreSQL)', () => {
  let stack: TestStack;
  let url: string;
  let purge: ExpiredSessionsPurge;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'session-purge', redis: false, sessions: { sessionPurge: PURGE } });
    url = stack.databaseUrl;
    purge = stack.web.get(ExpiredSessionsPurge);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('deletes exactly the sessions past expiry plus margin, their tokens and stale lockouts, in batches, and audits the run', async () => {
    const userId = await insertUser(url);
    // Past the margin: 4 expired sessions (one with 7 tokens), 1 revoked one: 14 tokens in all.
    const doomed = [
      await insertSession(url, userId, -10, 2),
      await insertSession(url, userId, -9, 2),
      await insertSession(url, userId, -8, 7),
      await insertSession(url, userId, -5, 2),
      await insertSession(url, userId, -3, 1, true),
    ];
    // Within the margin (expired a day ago, still listable), revoked but not expired, live.
    const kept = [await insertSession(url, userId, -1, 2), await insertSession(url, userId, 20, 1, true), await insertSession(url, userId, 25, 3)];
    // Ended or cleared before the cutoff: an old lock, one cleared long ago, one that ended long
    // before it was cleared. Kept: one ended within the margin, one cleared within it, one in force.
    const staleLockouts = [await insertLockout(url, 5, null), await insertLockout(url, 4, 3), await insertLockout(url, 5, 1)];
    const keptLockouts = [await insertLockout(url, 1, null), await insertLockout(url, 1, 0), await insertLockout(url, -1, null)];
    for (const sessionId of [...doomed, ...kept]) await insertAuditOf(url, userId, sessionId);
    const auditBefore = await auditSnapshot(url);
    const keptTokens = await sql(url, `SELECT * FROM refresh_tokens WHERE session_id = ANY($1) ORDER BY id`, [kept]);

    const report = await purge.run();

    // Tokens 3+3+3+3+2 (the last short), sessions 3+2, lockouts 3+0: nine statements.
    expect(report).toMatchObject({ kind: 'purged', sessions: 5, refreshTokens: 14, lockouts: 3, batches: 9, stoppedBy: 'done' });
    expect(await ids(url, 'sessions')).toEqual([...kept].sort());
    expect(await sql(url, `SELECT * FROM refresh_tokens ORDER BY id`)).toEqual(keptTokens);
    expect(await ids(url, 'login_lockouts')).toEqual([...keptLockouts].sort());
    expect(staleLockouts.every((email) => !keptLockouts.includes(email))).toBe(true);

    await stack.settleAudit();
    // The trail is untouched, the entries about the deleted sessions included ...
    expect(await auditSnapshot(url)).toEqual(auditBefore);
    // ... but for the purge's own triad, by the system, with the counts and the cutoff.
    const own = await sql<{ outcome: string; actor_type: string; actor_id: string | null; details: Record<string, unknown> }>(
      url,
      `SELECT outcome, actor_type, actor_id, details FROM audit_entries WHERE action = 'sessions.purge' ORDER BY event_id`,
    );
    expect(own.map((row) => [row.outcome, row.actor_type, row.actor_id])).toEqual([
      ['attempted', 'system', null],
      ['succeeded', 'system', null],
    ]);
    expect(own[1].details).toMatchObject({
      sessions: 5,
      refreshTokens: 14,
      lockouts: 3,
      batches: 9,
      stoppedBy: 'done',
      before: (report as Extract<PurgeReport, { kind: 'purged' }>).before.toISOString(),
    });
    expect(await brokenTriads(url)).toEqual([]);

    // Nothing left past the cutoff: the next run deletes nothing and leaves no entry.
    await expect(purge.run()).resolves.toMatchObject({ kind: 'nothing_expired' });
    await stack.settleAudit();
    expect(await sql(url, `SELECT 1 FROM audit_entries WHERE action = 'sessions.purge'`)).toHaveLength(2);
  });

  it('stops after maxBatchesPerRun; the next run goes on from there', async () => {
    const capped = await startTestStack({
      label: 'session-purge-cap',
      redis: false,
      shareWith: stack,
      sessions: { sessionPurge: { ...PURGE, maxBatchesPerRun: 3 } },
    });
    try {
      const userId = await insertUser(url);
      for (let i = 0; i < 7; i++) await insertSession(url, userId, -10 - i, 0);
      const cappedPurge = capped.web.get(ExpiredSessionsPurge);
      // No tokens: one short token batch, then two full session batches of 3, and the cap.
      await expect(cappedPurge.run()).resolves.toMatchObject({ kind: 'purged', sessions: 6, batches: 3, stoppedBy: 'batch_cap' });
      // Tokens (none), the last session (short), lockouts (none).
      await expect(cappedPurge.run()).resolves.toMatchObject({ kind: 'purged', sessions: 1, batches: 3, stoppedBy: 'done' });
      await capped.settleAudit();
      expect(await brokenTriads(url)).toEqual([]);
    } finally {
      await capped.close();
    }
  });

  it('skips the run while another instance holds the purge lock', async () => {
    const userId = await insertUser(url);
    const sessionId = await insertSession(url, userId, -10, 1);
    const other = testDatabaseClient(url);
    await other.connect();
    try {
      await other.query('BEGIN');
      const [{ locked }] = (
        await other.query(`SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked`, [`${TEST_SESSIONS_SCHEMA}.sessions_purge`])
      ).rows as Array<{ locked: boolean }>;
      expect(locked).toBe(true);
      await expect(purge.run()).resolves.toMatchObject({ kind: 'skipped' });
      expect(await ids(url, 'sessions')).toContain(sessionId);
      await other.query('ROLLBACK');
      await expect(purge.run()).resolves.toMatchObject({ kind: 'purged', sessions: 1, refreshTokens: 1 });
    } finally {
      await other.end();
    }
  });

  it('two instances purging at once neither deadlock nor delete anything twice', async () => {
    const second = await startTestStack({ label: 'session-purge-second', redis: false, shareWith: stack, sessions: { sessionPurge: PURGE } });
    try {
      const users = await Promise.all([insertUser(url), insertUser(url)]);
      for (let i = 0; i < 30; i++) await insertSession(url, users[i % 2], -3 - (i % 7), 1 + (i % 3));
      const live = await ids(url, 'sessions');
      const expired = await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM sessions WHERE expires_at < now() - interval '2 days'`);
      expect(expired[0].n).toBe(30);

      const reports = await Promise.all([purge.run(), second.web.get(ExpiredSessionsPurge).run(), purge.run(), second.web.get(ExpiredSessionsPurge).run()]);
      const purged = reports.filter((report): report is Extract<PurgeReport, { kind: 'purged' }> => report.kind === 'purged');
      // Whoever held the lock did the work; a run that lost it stopped, and another went on.
      const sessions = purged.reduce((sum, report) => sum + report.sessions, 0);
      const stillExpired = await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM sessions WHERE expires_at < now() - interval '2 days'`);
      expect(sessions + stillExpired[0].n).toBe(30);
      // Any left (every run yielded to another at some point) goes at the next run.
      await purge.run();
      expect(await sql(url, `SELECT 1 FROM sessions WHERE expires_at < now() - interval '2 days'`)).toEqual([]);
      expect((await ids(url, 'sessions')).length).toBe(live.length - 30);
      for (const report of purged) expect(['done', 'other_instance']).toContain(report.stoppedBy);
      await Promise.all([stack.settleAudit(), second.settleAudit()]);
      expect(await brokenTriads(url)).toEqual([]);
    } finally {
      await second.close();
    }
  });
});

describe("the purge's statements walk sessions_expiry_idx", () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = new DataSource({ type: 'postgres', url: database.url });
    await dataSource.initialize();
    await runSessionsMigrations(dataSource);
    // 20,000 sessions over 10 users, 1% of them expired long ago, one token each.
    await sql(
      database.url,
      `INSERT INTO users (id, email, password_hash, role, created_at)
         SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(u), 12, '0'))::uuid, u || '@example.com', 'x', 'user', now() FROM generate_series(1, 10) u;
       INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, revoked_at, revoked_reason)
         SELECT gen_random_uuid(), ('00000000-0000-7000-8000-' || lpad(to_hex(1 + i % 10), 12, '0'))::uuid, now(), now(),
                CASE WHEN i % 100 = 0 THEN now() - interval '30 days' ELSE now() + make_interval(secs => i) END,
                CASE WHEN i % 3 = 0 THEN now() END, CASE WHEN i % 3 = 0 THEN 'logout' END
           FROM generate_series(1, 20000) i;
       INSERT INTO refresh_tokens (id, session_id, user_id, token_hash, issued_at, expires_at)
         SELECT gen_random_uuid(), id, user_id, sha256(gen_random_uuid()::text::bytea), created_at, expires_at FROM sessions;
       ANALYZE sessions; ANALYZE refresh_tokens;`,
    );
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  interface PlanNode {
    'Node Type': string;
    'Relation Name'?: string;
    'Index Name'?: string;
    Plans?: PlanNode[];
  }

  /** Every node of the statement's plan (not run: EXPLAIN without ANALYZE deletes nothing). */
  async function planNodes(text: string, params: unknown[]): Promise<PlanNode[]> {
    const rows = await sql<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(database.url, `EXPLAIN (FORMAT JSON) ${text}`, params);
    const found: PlanNode[] = [];
    const walk = (node: PlanNode) => {
      found.push(node);
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(rows[0]['QUERY PLAN'][0].Plan);
    return found;
  }

  it.each([
    ['the sessions batch', () => [deleteExpiredSessionsSql(TEST_SESSIONS_SCHEMA), [cutoff(), 500]] as const],
    [
      'the tokens batch',
      () =>
        [
          deleteTokensOfExpiredSessionsSql(TEST_SESSIONS_SCHEMA),
          [cutoff(), 500, START_OF_EXPIRED_SESSIONS.expiresAt, START_OF_EXPIRED_SESSIONS.sessionId],
        ] as const,
    ],
  ])('%s finds expired sessions, revoked ones included, by a range of the index, never a scan of the table', async (_name, statement) => {
    const [text, params] = statement();
    const nodes = await planNodes(text, [...params]);
    const onSessions = nodes.filter((node) => node['Relation Name'] === 'sessions');
    expect(onSessions.map((node) => node['Index Name'])).toContain('sessions_expiry_idx');
    expect(onSessions.filter((node) => node['Node Type'] === 'Seq Scan')).toEqual([]);
  });
});

function cutoff(): Date {
  return new Date(Date.now() - 7 * DAY * 1000);
}
