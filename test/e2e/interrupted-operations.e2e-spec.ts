import { InterruptedOperations } from '../../libs/sessions/src/application/audit/interrupted-operations';
import { PROCESS_INSTANCE_ID } from '../../libs/sessions/src/application/audit/process-instance';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { uniqueEmail } from '../support/api';
import { ServiceProcess, waitFor } from '../support/service-process';
import { AuditRow, brokenTriads, sql, testDatabaseClient } from '../support/sql';
import { startTestStack, TEST_REDIS_URL, type TestStack } from '../support/test-app';

jest.setTimeout(120_000);

/** An Attempted entry as a process would have written it before dying. */
async function attempted(stack: TestStack, instance: string, secondsAgo: number): Promise<string> {
  const correlationId = randomUUID();
  await sql(
    stack.databaseUrl,
    `INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, user_id, actor_type, actor_id, reason, ip_address, user_agent, details)
     VALUES ($1, $2, 'sessions.revoke_all', 'attempted', now() - make_interval(secs => $3), $4, 'user', $4, 'user_revoked_all', '198.51.100.7', 'crashed-client', $5)`,
    [randomUUID(), correlationId, secondsAgo, randomUUID(), JSON.stringify({ instance })],
  );
  return correlationId;
}

describe('operations interrupted by a dead process', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'interrupted', sessions: { interruptedAfterSeconds: 30 } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it("closes another process's old unfinished operations as Failed 'interrupted', once, and leaves the rest", async () => {
    const dead = await attempted(stack, randomUUID(), 120);
    const tooRecent = await attempted(stack, randomUUID(), 5);
    const ours = await attempted(stack, PROCESS_INSTANCE_ID, 120);
    const recovery = stack.web.get(InterruptedOperations);

    expect(await recovery.closeInterrupted(3_600_000)).toBe(1);
    expect(await recovery.closeInterrupted(3_600_000)).toBe(0);

    const outcomes = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE outcome <> 'attempted' AND correlation_id = ANY($1::uuid[])`, [
      [dead, tooRecent, ours],
    ]);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({
      correlation_id: dead,
      outcome: 'failed',
      reason: 'interrupted',
      action: 'sessions.revoke_all',
      user_agent: 'crashed-client',
    });
  });

  it('keeps one outcome per operation: a late outcome after recovery is dropped by the database', async () => {
    const dead = await attempted(stack, randomUUID(), 120);
    await stack.web.get(InterruptedOperations).closeInterrupted(3_600_000);
    await sql(
      stack.databaseUrl,
      `INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, actor_type, details)
       VALUES ($1, $2, 'sessions.revoke_all', 'succeeded', now(), 'user', '{}') ON CONFLICT DO NOTHING`,
      [randomUUID(), dead],
    );
    const rows = await sql(stack.databaseUrl, `SELECT outcome FROM audit_entries WHERE correlation_id = $1 ORDER BY event_id`, [dead]);
    expect(rows.map((r) => r.outcome).sort()).toEqual(['attempted', 'failed']);
    expect((await brokenTriads(stack.databaseUrl)).filter((t) => t.correlation_id === dead)).toEqual([]);
  });

  it('leaves alone the old unfinished operations of an instance that still beats, and closes them once it has been silent past the threshold', async () => {
    const live = randomUUID();
    await sql(stack.databaseUrl, `INSERT INTO instances (id, started_at, last_heartbeat_at) VALUES ($1, now() - interval '1 hour', now())`, [live]);
    const slow = await attempted(stack, live, 120);
    const recovery = stack.web.get(InterruptedOperations);
    await recovery.closeInterrupted(3_600_000);
    expect(await sql(stack.databaseUrl, `SELECT 1 FROM audit_entries WHERE correlation_id = $1 AND outcome <> 'attempted'`, [slow])).toEqual([]);

    // Its last beat 31 s ago, past the 30 s threshold: now it is known dead.
    await sql(stack.databaseUrl, `UPDATE instances SET last_heartbeat_at = now() - interval '31 seconds' WHERE id = $1`, [live]);
    await recovery.closeInterrupted(3_600_000);
    const [outcome] = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE correlation_id = $1 AND outcome <> 'attempted'`, [slow]);
    expect(outcome).toMatchObject({ outcome: 'failed', reason: 'interrupted' });
  });

  it('registers this instance and beats on the database clock', async () => {
    await stack.web.get(InterruptedOperations).heartbeat();
    const [row] = await sql<{ age_ms: number }>(
      stack.databaseUrl,
      `SELECT extract(epoch FROM now() - last_heartbeat_at) * 1000 AS age_ms FROM instances WHERE id = $1`,
      [PROCESS_INSTANCE_ID],
    );
    expect(Number(row.age_ms)).toBeLessThan(1_000);
  });

  it('rolls back a change whose operation was already closed, answers 503, and keeps the Failed as its only outcome', async () => {
    const email = uniqueEmail('closed');
    const locker = await holdUsersTable(stack.databaseUrl);
    let response: Promise<{ status: number; body: Record<string, unknown> }> | undefined;
    try {
      response = Promise.resolve(stack.http().post('/auth/register').send({ email, password: 'correct horse battery' })).then((r) => ({
        status: r.status,
        body: r.body,
      }));
      const correlationId = await attemptedRegistration(stack.databaseUrl, PROCESS_INSTANCE_ID, 0);
      // What a recovery pass of another instance that took this one for dead would write.
      await sql(
        stack.databaseUrl,
        `INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, actor_type, reason, details)
         VALUES ($1, $2, 'user.register', 'failed', now(), 'user', 'interrupted', '{}')`,
        [randomUUID(), correlationId],
      );
      await locker.query('COMMIT');
      const answer = await response;
      expect(answer.status).toBe(503);
      expect(await sql(stack.databaseUrl, 'SELECT id FROM users WHERE email = $1', [email])).toEqual([]);
      await stack.settleAudit();
      const entries = await sql<AuditRow>(stack.databaseUrl, 'SELECT * FROM audit_entries WHERE correlation_id = $1 ORDER BY event_id', [correlationId]);
      expect(entries.map((e) => [e.outcome, e.reason])).toEqual([
        ['attempted', null],
        ['failed', 'interrupted'],
      ]);
      expect(stack.logs.lines.some((line) => line.includes('audit_outcome_already_recorded') && line.includes(correlationId))).toBe(true);
    } finally {
      await locker.end();
      await response;
    }
  });
});

/** Holds a lock that makes every INSERT into users wait, until the returned client commits. */
async function holdUsersTable(url: string): Promise<Client> {
  const client = testDatabaseClient(url);
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE users IN SHARE MODE');
  return client;
}

/**
 * The correlation id of a registration in flight of `instance` (or of any other), once its
 * Attempted is older than `olderThanMs` (database clock).
 */
async function attemptedRegistration(url: string, instance: string | { not: string }, olderThanMs: number): Promise<string> {
  const [operator, id] = typeof instance === 'string' ? ['=', instance] : ['<>', instance.not];
  return waitFor(
    `a registration Attempted by an instance ${operator} ${id} older than ${olderThanMs} ms`,
    async () => {
      const [row] = await sql<{ correlation_id: string }>(
        url,
        `SELECT correlation_id FROM audit_entries
          WHERE action = 'user.register' AND outcome = 'attempted' AND details->>'instance' ${operator} $1
            AND occurred_at < now() - make_interval(secs => $2)`,
        [id, olderThanMs / 1000],
      );
      return row?.correlation_id;
    },
    15_000,
    50,
  );
}

describe('a slow command of another live instance', () => {
  const THRESHOLD_SECONDS = 1;
  let stack: TestStack;
  let other: ServiceProcess;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'interrupted-live', sessions: { interruptedAfterSeconds: THRESHOLD_SECONDS } });
    other = await ServiceProcess.start({
      label: 'interrupted-live',
      apps: 'web',
      databaseUrl: stack.databaseUrl,
      redisUrl: TEST_REDIS_URL,
      cachePrefix: stack.cachePrefix,
      // The held registration waits on a lock for more than the default 2 s statement timeout.
      env: { INTERRUPTED_AFTER_SECONDS: String(THRESHOLD_SECONDS), DATABASE_STATEMENT_TIMEOUT_MS: '20000' },
    });
  }, 90_000);

  afterAll(async () => {
    await other?.stop();
    await stack?.close();
  });

  it('is not closed by recovery while it runs past the threshold, and commits with its Succeeded entry', async () => {
    const email = uniqueEmail('slow');
    const locker = await holdUsersTable(stack.databaseUrl);
    let response: Promise<Response> | undefined;
    try {
      response = fetch(`${other.webUrl}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'correct horse battery' }),
      });
      // Held past twice the threshold: by age alone it would be closed.
      const correlationId = await attemptedRegistration(stack.databaseUrl, { not: PROCESS_INSTANCE_ID }, 2 * THRESHOLD_SECONDS * 1000);
      // Neither this instance's periodic pass (every second) nor an explicit one closes it.
      expect(await stack.web.get(InterruptedOperations).closeInterrupted(3_600_000)).toBe(0);
      expect(
        await sql(stack.databaseUrl, `SELECT outcome, reason FROM audit_entries WHERE correlation_id = $1 AND outcome <> 'attempted'`, [correlationId]),
      ).toEqual([]);

      await locker.query('COMMIT');
      const status = (await response).status;
      if (status !== 201)
        console.log(
          other.logs
            .slice(-15)
            .map((l) => l.text)
            .join('\n'),
        );
      expect(status).toBe(201);
      const entries = await waitFor('the registration outcome', async () => {
        const rows = await sql<AuditRow>(stack.databaseUrl, 'SELECT * FROM audit_entries WHERE correlation_id = $1 ORDER BY event_id', [correlationId]);
        return rows.length === 2 ? rows : undefined;
      });
      expect(entries.map((e) => [e.outcome, e.reason])).toEqual([
        ['attempted', null],
        ['succeeded', null],
      ]);
      expect(await sql(stack.databaseUrl, 'SELECT id FROM users WHERE email = $1', [email])).toHaveLength(1);
      const [{ held_ms: heldMs }] = await sql<{ held_ms: number }>(
        stack.databaseUrl,
        `SELECT round(extract(epoch FROM (SELECT occurred_at FROM audit_entries WHERE correlation_id = $1 AND outcome = 'succeeded') - occurred_at) * 1000) AS held_ms
           FROM audit_entries WHERE correlation_id = $1 AND outcome = 'attempted'`,
        [correlationId],
      );
      console.log(
        JSON.stringify({ test: 'live-instance-slow-command', thresholdMs: THRESHOLD_SECONDS * 1000, heldMs: Number(heldMs), closed: 0, status: 201 }),
      );
    } finally {
      await locker.end();
      await response?.catch(() => undefined);
    }
  });
});
