import { ServiceProcess, waitFor } from '../support/service-process';
import { TcpProxy } from '../support/tcp-proxy';
import { TEST_REDIS_URL } from '../support/test-app';
import { createTestDatabase, deleteRedisKeys, type TestDatabase, testRedisPrefix } from '../support/test-database';
import { auditFromDatabase, auditFromLogs, describeFacts, halfDoneRevocations, notRevoked, revocationAudit, triads } from './checks';
import { type Account, addDevice, Http, LoadStream, printReport, registerAccount, seed, seededRandom, stopAllStreams } from './harness';

/**
 * The network between the service and PostgreSQL is cut twice under load: once so that every
 * connection attempt is refused at once, once so that connections are accepted and never
 * answered (the client must time out by itself). Live connections die both times, whatever
 * statement they were in. Requests that need the database must answer 503 (problem+json with
 * Retry-After) in bounded time, never 500 or a hang; no revocation may be half done; and once
 * the database is back, every audited operation must end with exactly one outcome, in the
 * database or, when the service gave up retrying, in its `audit_write_failed` log.
 */

jest.setTimeout(120_000);

/** Longest any answer may take: the pool's 5 s connect timeout plus slack for a loaded machine. */
const MAX_ANSWER_MS = 7_000;
/** After the network is back, requests that start this much later must all succeed. */
const RECOVERY_GRACE_MS = 1_500;

describe('PostgreSQL outage (TCP proxy cut: refused, then black-holed)', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let service: ServiceProcess;
  const prefix = testRedisPrefix('pg-outage');

  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = await TcpProxy.start('127.0.0.1', 5432);
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    service = await ServiceProcess.start({
      label: 'pg-outage',
      apps: 'web',
      databaseUrl: viaProxy.toString(),
      redisUrl: TEST_REDIS_URL,
      cachePrefix: prefix,
      env: { DATABASE_STATEMENT_TIMEOUT_MS: '2000' },
    });
  }, 60_000);

  afterAll(async () => {
    await stopAllStreams();
    await service?.stop();
    await proxy?.close();
    await database?.drop();
    await deleteRedisKeys(TEST_REDIS_URL, prefix);
  });

  it('answers 503 in bounded time, leaves nothing half done, and closes every audited operation', async () => {
    const started = Date.now();
    const runSeed = seed();
    const web = new Http(service.webUrl, 'web');
    const accounts: Account[] = [];
    for (let i = 0; i < 8; i += 1) {
      const account = await registerAccount(web, `pg-stream-${i}`);
      await addDevice(web, account);
      accounts.push(account);
    }
    const stream = new LoadStream({
      accounts,
      targets: [web],
      weights: { login: 2, me: 4, me_revoked: 1, refresh: 2, logout: 1, revoke_all: 1, delete_session: 1 },
      random: seededRandom(runSeed),
      allow503: true,
      maxLatencyMs: MAX_ANSWER_MS,
    });
    const outages: Array<{ mode: string; cutAt: number; restoredAt: number; healthStatus: number; healthMs: number }> = [];
    const unavailable = (phase: string) => stream.count((record) => record.phaseAtStart === phase && record.status === 503);

    stream.start();
    try {
      await stream.until('80 requests before the first cut', () => stream.count() >= 80);
      for (const [mode, holdMs] of [
        ['refuse', 3_000],
        ['blackhole', 6_000],
      ] as const) {
        const phase = `cut-${mode}`;
        stream.setPhase(phase);
        const cutAt = Date.now();
        proxy.cut(mode);
        const health = await web.call('GET', '/health');
        await stream.until(`${holdMs} ms of ${mode} outage with some 503s`, () => Date.now() - cutAt >= holdMs && unavailable(phase) >= 5, holdMs + 15_000);
        proxy.restore();
        const restoredAt = Date.now();
        outages.push({ mode, cutAt, restoredAt, healthStatus: health.status, healthMs: health.ms });
        stream.setPhase(`after-${mode}`);
        await stream.until(
          `80 requests started ${RECOVERY_GRACE_MS} ms after the ${mode} outage`,
          () => stream.count((record) => record.startedAt >= restoredAt + RECOVERY_GRACE_MS) >= 80,
        );
      }
      await stream.stop();

      // --- During the outages: only 503s (checked per answer by the stream), all in bounded time.
      if (stream.violations.length > 0) {
        // What the service logged as errors, so a failure here says why (a 500 is logged with its stack).
        const errors = service.logs.filter((line) => line.json?.level === 'error').map((line) => line.text);
        console.log(`PostgreSQL outage: service errors\n${errors.slice(-20).join('\n')}`);
      }
      expect(stream.violations).toEqual([]);
      for (const outage of outages) {
        expect({ mode: outage.mode, health: outage.healthStatus }).toEqual({ mode: outage.mode, health: 503 });
        expect(outage.healthMs).toBeLessThan(MAX_ANSWER_MS);
      }
      // --- After them: the service recovered by itself.
      // Started well after a restore and answered before the next cut.
      const recovered = (record: { startedAt: number; endedAt: number }) =>
        outages.some(
          (outage, index) =>
            record.startedAt >= outage.restoredAt + RECOVERY_GRACE_MS && (index + 1 === outages.length || record.endedAt < outages[index + 1].cutAt),
        );
      const lateFailures = stream.records.filter((record) => record.status >= 500 && recovered(record));
      expect(lateFailures.map((record) => `${record.op} ${record.status} started ${record.startedAt - started} ms in`)).toEqual([]);

      // --- Every revocation that answered 2xx is in PostgreSQL, and none is half done.
      expect(
        await notRevoked(
          database.url,
          stream.revocations.flatMap((revocation) => revocation.sessionIds),
        ),
      ).toEqual([]);
      const { halfDone, neverUsable } = await halfDoneRevocations(database.url);
      expect(halfDone).toEqual([]);

      // --- The audit trail: every operation closes, from the database or the give-up log.
      const settleStarted = Date.now();
      const report = await waitFor(
        'every Attempted audit entry to have its one outcome',
        async () => {
          const current = triads([...(await auditFromDatabase(database.url)), ...auditFromLogs([service])]);
          return current.missingOutcome.length === 0 ? current : undefined;
        },
        30_000,
        250,
      ).catch(async () => triads([...(await auditFromDatabase(database.url)), ...auditFromLogs([service])]));
      const settledMs = Date.now() - settleStarted;
      expect(describeFacts(report.missingOutcome)).toEqual([]);
      expect(report.duplicated).toEqual([]);
      expect(describeFacts(report.outcomeWithoutAttempted)).toEqual([]);
      const facts = await auditFromDatabase(database.url);
      const revocations = await revocationAudit(database.url, facts);
      expect(revocations.succeededNotInDatabase).toEqual([]);
      expect(revocations.succeededSessionMissing).toEqual([]);
      expect(revocations.revokedWithoutSucceeded).toEqual([]);
      expect(revocations.revokedTwice).toEqual([]);
      expect(revocations.countMismatch).toEqual([]);
      expect(revocations.reasonMismatch).toEqual([]);

      const phases = ['before', ...outages.flatMap((outage) => [`cut-${outage.mode}`, `after-${outage.mode}`])];
      printReport('PostgreSQL outage: what was injected and what held', {
        seed: runSeed,
        'requests (total)': stream.records.length,
        'requests by phase': Object.fromEntries(phases.map((phase) => [phase, stream.count((record) => record.phaseAtStart === phase)])),
        'outages (ms)': outages.map((outage) => `${outage.mode} ${outage.restoredAt - outage.cutAt}`),
        proxy: proxy.stats,
        'statuses during refuse': stream.statusTable((record) => record.phaseAtStart === 'cut-refuse'),
        'statuses during blackhole': stream.statusTable((record) => record.phaseAtStart === 'cut-blackhole'),
        '503 answers (all problem+json with Retry-After)': stream.count((record) => record.status === 503),
        'slowest answer (ms)': Math.max(...stream.records.map((record) => record.ms)),
        'slowest 503 (ms)': Math.max(0, ...stream.records.filter((record) => record.status === 503).map((record) => record.ms)),
        'revocations answered': stream.revocations.length,
        'sessions revoked in PostgreSQL': revocations.revokedSessions,
        'unrevoked rotation tokens of revoked sessions (raced the revocation, never usable)': neverUsable.length,
        'audited operations': report.operations,
        'audit outcomes': report.byOutcome,
        'entries given up and logged as audit_write_failed': report.loggedEntries,
        'operations complete only through that log': report.completedFromLogs,
        'audit trail complete after restore (ms)': settledMs,
        'run time (ms)': Date.now() - started,
      });
    } finally {
      proxy.restore();
      await stream.stop();
    }
  });
});
