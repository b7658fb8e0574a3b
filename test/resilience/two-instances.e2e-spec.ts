import { ServiceProcess, waitFor } from '../support/service-process';
import { brokenTriads, sql } from '../support/sql';
import { TEST_REDIS_URL } from '../support/test-app';
import { createTestDatabase, deleteRedisKeys, type TestDatabase, testRedisPrefix } from '../support/test-database';
import { auditFromDatabase, revocationAudit } from './checks';
import { type Account, addDevice, type Device, Http, printReport, redisGet, registerAccount, seed, seededRandom, sessionKey } from './harness';

/**
 * Two processes of the web API on one database and one Redis key prefix, as behind a load
 * balancer. A revocation answered by one is enforced by the other at once, and concurrent
 * revoke-alls split across both end each session exactly once: the counts they answer, the
 * sessions PostgreSQL shows as ended and the audit trail all add up to the same number.
 */

jest.setTimeout(90_000);

describe('two instances on one database and one Redis prefix', () => {
  let database: TestDatabase;
  let a: ServiceProcess;
  let b: ServiceProcess;
  let httpA: Http;
  let httpB: Http;
  const prefix = testRedisPrefix('two-instances');

  beforeAll(async () => {
    database = await createTestDatabase();
    const options = { apps: 'web' as const, databaseUrl: database.url, redisUrl: TEST_REDIS_URL, cachePrefix: prefix };
    // Started together: the migrations' advisory lock must let exactly one of them migrate.
    [a, b] = await Promise.all([ServiceProcess.start({ ...options, label: 'instance-a' }), ServiceProcess.start({ ...options, label: 'instance-b' })]);
    httpA = new Http(a.webUrl, 'A');
    httpB = new Http(b.webUrl, 'B');
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await database?.drop();
    await deleteRedisKeys(TEST_REDIS_URL, prefix);
  });

  const me = async (http: Http, device: Device) => (await http.call('GET', '/auth/me', { token: device.accessToken })).status;

  it('enforces on B, at once, a logout answered by A (and a revoke-all answered by B on A)', async () => {
    const account = await registerAccount(httpA, 'two-instances');
    const device = await addDevice(httpA, account);
    expect(await me(httpB, device)).toBe(200);
    // B has cached the session as active: the case where B could go on trusting it.
    await waitFor(
      'B to cache the session "active"',
      async () => (await redisGet(TEST_REDIS_URL, [sessionKey(prefix, account.userId, device.sessionId)]))[0] === 'a',
    );
    expect((await httpA.call('POST', '/auth/logout', { body: { refreshToken: device.refreshToken }, token: device.accessToken })).status).toBe(200);
    expect(await me(httpB, device)).toBe(401);
    expect(await me(httpA, device)).toBe(401);

    const [first, second] = [await addDevice(httpB, account), await addDevice(httpB, account)];
    for (const session of [first, second]) expect(await me(httpA, session)).toBe(200);
    const revoked = await httpB.call('POST', '/auth/sessions/revoke-all', { body: {}, token: first.accessToken });
    expect([revoked.status, revoked.body]).toEqual([200, expect.objectContaining({ revokedCount: 2, sessionIds: [expect.any(String), expect.any(String)] })]);
    for (const session of [first, second]) expect([await me(httpA, session), await me(httpB, session)]).toEqual([401, 401]);
  });

  it('ends each session exactly once under concurrent revoke-alls and logins split across both', async () => {
    const started = Date.now();
    const runSeed = seed();
    const random = seededRandom(runSeed);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
    const instances = [httpA, httpB];

    const accounts: Account[] = [];
    for (let i = 0; i < 6; i += 1) {
      const account = await registerAccount(pick(instances), `two-instances-${i}`);
      for (let d = 0; d < 4; d += 1) await addDevice(pick(instances), account);
      accounts.push(account);
    }
    const userIds = accounts.map((account) => account.userId);
    const [{ before }] = await sql<{ before: number }>(
      database.url,
      "SELECT count(*)::int AS before FROM sessions WHERE user_id = ANY($1::uuid[]) AND revoked_reason = 'user_revoked_all'",
      [userIds],
    );

    // Tasks: logins, and revoke-alls each from a session of its own opened on either instance.
    type Task = () => Promise<void>;
    const answers: Array<{ via: string; status: number; revokedCount?: number; keepCurrent: boolean }> = [];
    const unexpected: string[] = [];
    const tasks: Task[] = [];
    for (const account of accounts) {
      for (let i = 0; i < 8; i += 1) {
        tasks.push(async () => {
          const via = pick(instances);
          const login = await via.call('POST', '/auth/login', { body: { email: account.email, password: account.password } });
          if (login.status === 200)
            account.devices.push({ sessionId: login.body.sessionId, accessToken: login.body.accessToken, refreshToken: login.body.refreshToken });
          else unexpected.push(`login via ${via.name}: ${login.status}`);
        });
        tasks.push(async () => {
          const device = await addDevice(pick(instances), account);
          const via = pick(instances);
          const keepCurrent = random() < 0.3;
          const response = await via.call('POST', '/auth/sessions/revoke-all', { body: { keepCurrent }, token: device.accessToken });
          // 401: a concurrent revoke-all ended the caller's own session first; nothing was attempted.
          if (response.status === 200) answers.push({ via: via.name, status: 200, revokedCount: response.body.revokedCount, keepCurrent });
          else if (response.status === 401) answers.push({ via: via.name, status: 401, keepCurrent });
          else unexpected.push(`revoke-all via ${via.name}: ${response.status} ${JSON.stringify(response.body)}`);
        });
      }
    }
    for (let i = tasks.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [tasks[i], tasks[j]] = [tasks[j], tasks[i]];
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (next < tasks.length) await tasks[next++]();
      }),
    );
    expect(unexpected).toEqual([]);

    // The audit saga writes Attempted entries asynchronously: wait until every operation is closed.
    await waitFor('every audited operation to be closed', async () => (await brokenTriads(database.url)).length === 0, 15_000, 100).catch(() => undefined);
    expect(await brokenTriads(database.url)).toEqual([]);

    const succeeded = answers.filter((answer) => answer.status === 200);
    const answeredTotal = succeeded.reduce((sum, answer) => sum + answer.revokedCount!, 0);
    const [{ ended }] = await sql<{ ended: number }>(
      database.url,
      "SELECT count(*)::int AS ended FROM sessions WHERE user_id = ANY($1::uuid[]) AND revoked_reason = 'user_revoked_all'",
      [userIds],
    );
    const entries = await sql<{ outcome: string; details: { count?: number; sessionIds?: string[] } }>(
      database.url,
      "SELECT outcome, details FROM audit_entries WHERE action = 'sessions.revoke_all' AND user_id = ANY($1::uuid[])",
      [userIds],
    );
    const succeededEntries = entries.filter((entry) => entry.outcome === 'succeeded');
    const auditedTotal = succeededEntries.reduce((sum, entry) => sum + (entry.details.count ?? Number.NaN), 0);
    const listed = succeededEntries.flatMap((entry) => entry.details.sessionIds ?? []);
    const endedIds = (
      await sql<{ id: string }>(database.url, "SELECT id FROM sessions WHERE user_id = ANY($1::uuid[]) AND revoked_reason = 'user_revoked_all'", [userIds])
    ).map((row) => row.id);

    expect({ answeredTotal, ended: ended - before, auditedTotal }).toEqual({ answeredTotal, ended: answeredTotal, auditedTotal: answeredTotal });
    // One Attempted and one Succeeded per revoke-all that answered 200; a 401 never reached the command.
    expect({ succeededEntries: succeededEntries.length, attempted: entries.filter((entry) => entry.outcome === 'attempted').length }).toEqual({
      succeededEntries: succeeded.length,
      attempted: succeeded.length,
    });
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual([...endedIds].sort());
    const revocations = await revocationAudit(database.url, await auditFromDatabase(database.url));
    expect(revocations.revokedTwice).toEqual([]);
    expect(revocations.revokedWithoutSucceeded).toEqual([]);
    expect(revocations.reasonMismatch).toEqual([]);

    // Both instances agree with PostgreSQL about every session.
    const states = new Map(
      (
        await sql<{ id: string; active: boolean }>(database.url, 'SELECT id, revoked_at IS NULL AS active FROM sessions WHERE user_id = ANY($1::uuid[])', [
          userIds,
        ])
      ).map((row) => [row.id, row.active]),
    );
    const disagreements: string[] = [];
    for (const device of accounts.flatMap((account) => account.devices)) {
      const expected = states.get(device.sessionId) ? 200 : 401;
      const [onA, onB] = [await me(httpA, device), await me(httpB, device)];
      if (onA !== expected || onB !== expected) disagreements.push(`${device.sessionId}: PostgreSQL ${expected}, A ${onA}, B ${onB}`);
    }
    expect(disagreements).toEqual([]);

    printReport('Two instances: concurrent revoke-alls and logins across A and B', {
      seed: runSeed,
      'concurrent tasks (a login, or a login then a revoke-all)': tasks.length,
      'revoke-alls answered 200 (via A / via B)': `${succeeded.filter((answer) => answer.via === 'A').length} / ${succeeded.filter((answer) => answer.via === 'B').length}`,
      'revoke-alls refused 401 (caller ended by a concurrent one)': answers.length - succeeded.length,
      'sum of revokedCount = sessions ended = sum of audited counts': answeredTotal,
      'sessions checked on both instances': states.size,
      'run time (ms)': Date.now() - started,
    });
  });
});
