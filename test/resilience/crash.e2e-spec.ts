import { delay, ServiceProcess, waitFor } from '../support/service-process';
import { sql } from '../support/sql';
import { TcpProxy } from '../support/tcp-proxy';
import { TEST_REDIS_URL } from '../support/test-app';
import { createTestDatabase, deleteRedisKeys, type TestDatabase, testRedisPrefix } from '../support/test-database';
import { auditFromDatabase, auditFromLogs, describeFacts, halfDoneRevocations, notRevoked, revocationAudit, triads } from './checks';
import {
  type Account,
  addDevice,
  Http,
  LoadStream,
  printReport,
  redisGet,
  registerAccount,
  seed,
  seededRandom,
  sessionKey,
  stopAllStreams,
  waitUntilCachedActive,
} from './harness';

/**
 * The process is SIGKILLed in the middle of a stream of revocations (eight at a time), three
 * times, and restarted with INTERRUPTED_AFTER_SECONDS=1 once more than a second has passed.
 * Whatever it was doing when it died: a revoked session has its Succeeded audit entry (written
 * in the same transaction), a revocation is never half done, and after the start-up recovery
 * every Attempted entry has exactly one outcome (Failed `interrupted` for the ones the dead
 * process never finished).
 */

jest.setTimeout(120_000);

const ROUNDS = 3;
const INTERRUPTED_AFTER_SECONDS = 1;

describe('crash (SIGKILL mid-stream, restart)', () => {
  let database: TestDatabase;
  let service: ServiceProcess;
  const prefix = testRedisPrefix('crash');

  beforeAll(async () => {
    database = await createTestDatabase();
    service = await ServiceProcess.start({ label: 'crash', apps: 'web', databaseUrl: database.url, redisUrl: TEST_REDIS_URL, cachePrefix: prefix });
  }, 60_000);

  afterAll(async () => {
    await stopAllStreams();
    await service?.stop();
    await database?.drop();
    await deleteRedisKeys(TEST_REDIS_URL, prefix);
  });

  it('leaves every revocation recorded and every audited operation closed after a kill', async () => {
    const started = Date.now();
    const runSeed = seed();
    const random = seededRandom(runSeed);
    let web = new Http(service.webUrl, 'web');
    const accounts: Account[] = [];
    for (let i = 0; i < 8; i += 1) {
      const account = await registerAccount(web, `crash-${i}`);
      for (let d = 0; d < 3; d += 1) await addDevice(web, account);
      accounts.push(account);
    }

    const rounds: Array<{ inFlightAtKill: number; answeredBeforeKill: number; openAfterKill: number; restartToTrailCompleteMs: number }> = [];
    const streams: LoadStream[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      const stream = new LoadStream({
        accounts,
        targets: [web],
        weights: { login: 3, logout: 2, revoke_all: 2 },
        random,
        maxDevices: 5,
        allowNoAnswer: true,
      });
      streams.push(stream);
      stream.start();
      try {
        await stream.until(
          `round ${round}: 40 revocations answered and at least 4 requests in flight`,
          () => stream.revocations.length >= 40 && stream.inFlight >= 4,
        );
        stream.halt();
        const inFlightAtKill = stream.inFlight;
        const killedAt = Date.now();
        await service.kill('SIGKILL');
        stream.setPhase('killed');
        await stream.stop();

        // What the kill left open: Attempted entries with no outcome.
        const openAfterKill = triads(await auditFromDatabase(database.url)).missingOutcome.length;
        // Restart only once everything the dead process attempted is older than the threshold.
        await delay(Math.max(0, killedAt + INTERRUPTED_AFTER_SECONDS * 1000 + 300 - Date.now()));
        const restartedAt = Date.now();
        await service.restart({ INTERRUPTED_AFTER_SECONDS: String(INTERRUPTED_AFTER_SECONDS) });
        web = new Http(service.webUrl, 'web');
        const recovered = await waitFor(
          `round ${round}: the start-up recovery to close what the kill left open`,
          async () => (triads([...(await auditFromDatabase(database.url)), ...auditFromLogs([service])]).missingOutcome.length === 0 ? Date.now() : undefined),
          10_000,
          100,
        ).catch(() => Number.NaN);
        rounds.push({
          inFlightAtKill,
          answeredBeforeKill: stream.revocations.length,
          openAfterKill,
          restartToTrailCompleteMs: recovered - restartedAt,
        });
      } finally {
        await stream.stop();
      }
    }

    // --- The stream itself: answers were what they should be, until the kill.
    expect(streams.flatMap((stream) => stream.violations)).toEqual([]);

    // --- Every operation closed, exactly once.
    const facts = [...(await auditFromDatabase(database.url)), ...auditFromLogs([service])];
    const report = triads(facts);
    expect(describeFacts(report.missingOutcome)).toEqual([]);
    expect(report.duplicated).toEqual([]);
    expect(describeFacts(report.outcomeWithoutAttempted)).toEqual([]);
    expect(await sql(database.url, 'SELECT event_id FROM audit_entries GROUP BY event_id HAVING count(*) > 1')).toEqual([]);
    // The kills did leave operations open, so the recovery was exercised.
    expect(rounds.reduce((sum, round) => sum + round.openAfterKill, 0)).toBeGreaterThan(0);
    expect(report.interrupted).toBeGreaterThan(0);

    // --- Revocations: all or nothing, and each recorded by exactly one Succeeded entry.
    const revocations = await revocationAudit(database.url, facts);
    expect(revocations.revokedWithoutSucceeded).toEqual([]);
    expect(revocations.succeededNotInDatabase).toEqual([]);
    expect(revocations.revokedTwice).toEqual([]);
    expect(revocations.countMismatch).toEqual([]);
    expect(revocations.reasonMismatch).toEqual([]);
    const { halfDone, neverUsable } = await halfDoneRevocations(database.url);
    expect(halfDone).toEqual([]);
    const answered = streams.flatMap((stream) => stream.revocations);
    expect(
      await notRevoked(
        database.url,
        answered.flatMap((revocation) => revocation.sessionIds),
      ),
    ).toEqual([]);

    // --- And the restarted process refuses every session that was revoked.
    const revokedDevices = accounts.flatMap((account) => account.devices.filter((device) => device.revokedAt !== undefined));
    const accepted: string[] = [];
    for (const device of revokedDevices) {
      const response = await web.call('GET', '/auth/me', { token: device.accessToken });
      if (response.status !== 401) accepted.push(await explain(device.sessionId, response.status));
    }
    expect(accepted).toEqual([]);

    /** Why a revoked session may have been let in: its row, the audit entries naming it, its cache entry. */
    async function explain(sessionId: string, status: number): Promise<string> {
      const [row] = await sql<{ user_id: string; revoked_at: Date | null; revoked_reason: string | null }>(
        database.url,
        'SELECT user_id, revoked_at, revoked_reason FROM sessions WHERE id = $1',
        [sessionId],
      );
      const named = facts
        .filter((fact) => fact.sessionId === sessionId || (Array.isArray(fact.details.sessionIds) && (fact.details.sessionIds as string[]).includes(sessionId)))
        .map((fact) => `${fact.action}:${fact.outcome}${fact.reason ? `(${fact.reason})` : ''}`);
      const [cached] = await redisGet(TEST_REDIS_URL, [sessionKey(prefix, row?.user_id ?? '', sessionId)]);
      return `session ${sessionId} answered ${status}: revoked_at=${row?.revoked_at?.toISOString()} reason=${row?.revoked_reason}, audit [${named.join(', ')}], cache entry ${JSON.stringify(cached)}`;
    }

    printReport('Crash: what was injected and what held', {
      seed: runSeed,
      'kills (SIGKILL)': ROUNDS,
      rounds,
      'requests (total)': streams.reduce((sum, stream) => sum + stream.records.length, 0),
      'requests without an answer (in flight at a kill)': streams.reduce((sum, stream) => sum + stream.count((record) => record.status === 0), 0),
      'revocations answered': answered.length,
      'sessions revoked in PostgreSQL': revocations.revokedSessions,
      'audited operations': report.operations,
      'closed as interrupted by the start-up recovery': report.interrupted,
      'audit outcomes': report.byOutcome,
      'unrevoked rotation tokens of revoked sessions (never usable)': neverUsable.length,
      'revoked sessions refused after restart': revokedDevices.length,
      'run time (ms)': Date.now() - started,
    });
  });
});

/**
 * The dangerous case across a crash, made deterministic: a session cached "active", its
 * revocation answered while Redis was unreachable (so its marker was never written), then the
 * process killed before Redis returned. The process that noticed the outage is gone, so
 * nothing remembers that the cache is stale; Redis comes back with the "active" entry, and the
 * restarted process (or any other instance) must still refuse the session.
 */
describe('crash while a revocation marker could not be written', () => {
  let database: TestDatabase;
  let redisProxy: TcpProxy;
  let service: ServiceProcess;
  const prefix = testRedisPrefix('crash-marker');

  beforeAll(async () => {
    database = await createTestDatabase();
    redisProxy = await TcpProxy.start('127.0.0.1', 6379);
    service = await ServiceProcess.start({
      label: 'crash-marker',
      apps: 'web',
      databaseUrl: database.url,
      redisUrl: `redis://127.0.0.1:${redisProxy.port}`,
      cachePrefix: prefix,
      env: { INTERRUPTED_AFTER_SECONDS: String(INTERRUPTED_AFTER_SECONDS) },
    });
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await redisProxy?.close();
    await database?.drop();
    await deleteRedisKeys(TEST_REDIS_URL, prefix);
  });

  it('refuses a session revoked during a Redis outage after the process is killed and restarted', async () => {
    let web = new Http(service.webUrl, 'web');
    const loggedOut = await registerAccount(web, 'crash-marker-logout');
    const [gone, kept] = [await addDevice(web, loggedOut), await addDevice(web, loggedOut)];
    const revokedAll = await registerAccount(web, 'crash-marker-revoke-all');
    const everywhere = [await addDevice(web, revokedAll), await addDevice(web, revokedAll)];
    const revoked = [gone, ...everywhere];
    const keys = [sessionKey(prefix, loggedOut.userId, gone.sessionId), ...everywhere.map((device) => sessionKey(prefix, revokedAll.userId, device.sessionId))];
    for (const device of [...revoked, kept]) expect((await web.call('GET', '/auth/me', { token: device.accessToken })).status).toBe(200);
    await waitUntilCachedActive(
      web,
      TEST_REDIS_URL,
      revoked.map((device, i) => ({ key: keys[i], accessToken: device.accessToken })),
    );

    // Redis becomes unreachable (its data intact); the service notices.
    redisProxy.cut('blackhole');
    await waitFor('GET /health to report the cache degraded', async () => (await web.call('GET', '/health')).body?.details?.cache?.status === 'degraded');
    expect((await web.call('POST', '/auth/logout', { body: { refreshToken: gone.refreshToken }, token: gone.accessToken })).status).toBe(200);
    const all = await web.call('POST', '/auth/sessions/revoke-all', { body: {}, token: everywhere[0].accessToken });
    expect([all.status, all.body]).toEqual([200, expect.objectContaining({ revokedCount: 2, sessionIds: [expect.any(String), expect.any(String)] })]);
    expect(
      await notRevoked(
        database.url,
        revoked.map((device) => device.sessionId),
      ),
    ).toEqual([]);

    // Killed before Redis returns: no repair can have run. Redis comes back with the stale entries.
    await service.kill('SIGKILL');
    redisProxy.restore();
    expect(await redisGet(TEST_REDIS_URL, keys)).toEqual(keys.map(() => 'a'));
    await service.restart();
    web = new Http(service.webUrl, 'web');

    const answers = await Promise.all(
      revoked.map(async (device) => `${device.sessionId}: ${(await web.call('GET', '/auth/me', { token: device.accessToken })).status}`),
    );
    expect(answers).toEqual(revoked.map((device) => `${device.sessionId}: 401`));
    expect((await web.call('GET', '/auth/me', { token: kept.accessToken })).status).toBe(200);
    // Repaired in Redis too, for the instances that never saw the outage.
    await waitFor('the stale entries to be replaced in Redis', async () => (await redisGet(TEST_REDIS_URL, keys)).every((value) => value !== 'a'), 10_000);
  });
});
