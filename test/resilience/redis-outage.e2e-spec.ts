import { delay, freePort, ServiceProcess, waitFor } from '../support/service-process';
import { RedisServer } from '../support/redis-server';
import { sql } from '../support/sql';
import { createTestDatabase, type TestDatabase, testRedisPrefix } from '../support/test-database';
import { notRevoked } from './checks';
import {
  type Account,
  addDevice,
  type Device,
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
 * Redis dies under load and comes back from its append-only file, holding whatever it held
 * when it died. While it is down the service must keep revoking (PostgreSQL decides) and keep
 * refusing revoked sessions (the auth check asks PostgreSQL), with no 5xx. When it comes back,
 * the "active" entries it kept for sessions revoked during the outage are stale: they must
 * never let a revoked session in, and must be repaired in Redis (a new instance, which never
 * saw the outage, would otherwise trust them).
 */

jest.setTimeout(90_000);

const ADMIN = { email: 'resilience-admin@example.com', password: 'admin password for resilience' };
const ACTIVE = 'a';

interface Victim {
  readonly account: Account;
  /** What is done to it while Redis is down. */
  readonly revoke: (web: Http, admin: Http, adminToken: string) => Promise<{ answer: string; expected: string }>;
  /** Devices that must be refused afterwards, and devices that must keep working. */
  readonly revoked: Device[];
  readonly kept: Device[];
}

describe('Redis outage (SIGKILL, restart from its append-only file)', () => {
  let redis: RedisServer;
  let database: TestDatabase;
  let service: ServiceProcess;
  const prefix = testRedisPrefix('redis-outage');

  beforeAll(async () => {
    redis = await RedisServer.start({ persistent: true });
    database = await createTestDatabase();
    service = await ServiceProcess.start({
      label: 'redis-outage',
      apps: 'both',
      databaseUrl: database.url,
      redisUrl: redis.url,
      cachePrefix: prefix,
      env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
    });
  }, 60_000);

  afterAll(async () => {
    await stopAllStreams();
    // The Redis server is this file's own: stopping it removes its data directory and every key.
    await service?.stop();
    await redis?.stop();
    await database?.drop();
  });

  it('keeps every revocation effective while Redis is down and after it returns with stale "active" entries', async () => {
    const started = Date.now();
    const runSeed = seed();
    const web = new Http(service.webUrl, 'web');
    const admin = new Http(service.adminUrl, 'admin');

    // --- Sessions cached "active" before the outage, to be revoked during it (the dangerous case).
    const victims = await prepareVictims(web);
    const victimDevices = victims.flatMap((victim) => victim.account.devices);
    for (const victim of victims) {
      for (const device of victim.account.devices) {
        expect((await web.call('GET', '/auth/me', { token: device.accessToken })).status).toBe(200);
      }
    }
    const victimKeys = victimDevices.map((device) => sessionKey(prefix, victimOf(victims, device).account.userId, device.sessionId));
    await waitUntilCachedActive(
      web,
      redis.url,
      victimDevices.map((device, i) => ({ key: victimKeys[i], accessToken: device.accessToken })),
    );
    const adminLogin = await web.call('POST', '/auth/login', { body: ADMIN });
    expect(adminLogin.status).toBe(200);
    const adminToken: string = adminLogin.body.accessToken;

    // --- A stream of logins, /auth/me, logouts and revoke-alls, one worker per account.
    const accounts: Account[] = [];
    for (let i = 0; i < 6; i += 1) {
      const account = await registerAccount(web, `redis-stream-${i}`);
      await addDevice(web, account);
      accounts.push(account);
    }
    const stream = new LoadStream({
      accounts,
      targets: [web],
      weights: { login: 2, me: 5, me_revoked: 2, refresh: 1, logout: 1, revoke_all: 1, delete_session: 1 },
      random: seededRandom(runSeed),
      allow503: false,
      maxLatencyMs: 5_000,
    });
    let watcher: ReturnType<typeof watchRevoked> | undefined;
    stream.start();
    try {
      await stream.until('50 requests with Redis up', () => stream.count() >= 50);

      // --- Outage: Redis is killed; its data stays on disk.
      stream.setPhase('outage');
      const downAt = Date.now();
      await redis.signal('SIGKILL');
      const health = await waitFor('GET /health to report the cache degraded', async () => {
        const response = await web.call('GET', '/health');
        return response.body?.details?.cache?.status === 'degraded' ? response : undefined;
      });
      expect(health.status).toBe(200);
      expect(health.body.details.cache).toMatchObject({ status: 'degraded', reachable: false });
      expect(health.body.details.database).toMatchObject({ status: 'up' });

      // The deliberate revocations: each answers, commits, and is enforced at once.
      for (const victim of victims) {
        const { answer, expected } = await victim.revoke(web, admin, adminToken);
        expect({ victim: victim.account.email, answer }).toEqual({ victim: victim.account.email, answer: expected });
      }
      const revokedVictimDevices = victims.flatMap((victim) => victim.revoked);
      expect(
        await notRevoked(
          database.url,
          revokedVictimDevices.map((device) => device.sessionId),
        ),
      ).toEqual([]);
      for (const device of revokedVictimDevices) {
        expect({ session: device.sessionId, status: (await web.call('GET', '/auth/me', { token: device.accessToken })).status }).toEqual({
          session: device.sessionId,
          status: 401,
        });
      }
      for (const device of victims.flatMap((victim) => victim.kept)) {
        expect({ session: device.sessionId, status: (await web.call('GET', '/auth/me', { token: device.accessToken })).status }).toEqual({
          session: device.sessionId,
          status: 200,
        });
      }

      const revocationsInOutage = () =>
        stream.revocations.filter((revocation) => revocation.phaseAtStart === 'outage' && revocation.phaseAtEnd === 'outage').length;
      await stream.until(
        '150 requests and 15 revocations while Redis is down',
        () => stream.count((record) => record.phaseAtStart === 'outage') >= 150 && revocationsInOutage() >= 15,
      );

      // --- The premise: Redis's files still hold "active" for the sessions revoked during the outage.
      const revokedKeys = revokedVictimDevices.map((device) => sessionKey(prefix, victimOf(victims, device).account.userId, device.sessionId));
      const sparePort = await freePort();
      await redis.start(sparePort);
      const onDisk = await redisGet(`redis://127.0.0.1:${sparePort}`, revokedKeys);
      await redis.signal('SIGKILL');
      expect(onDisk).toEqual(revokedKeys.map(() => ACTIVE));

      // --- Redis returns on its port with those stale entries. From now on a watcher keeps
      // presenting the revoked victims' tokens: not one may be accepted.
      watcher = watchRevoked(web, revokedVictimDevices);
      stream.setPhase('restart');
      const upAt = Date.now();
      await redis.start();
      const recoveredHealth = await waitFor(
        'GET /health to report the cache up again',
        async () => {
          const response = await web.call('GET', '/health');
          return response.body?.details?.cache?.status === 'up' ? response : undefined;
        },
        15_000,
      );
      const healthUpAfterMs = Date.now() - upAt;
      stream.setPhase('after');

      // The stale entries must be repaired in Redis itself, not only distrusted by this process:
      // an instance started after the outage would trust them.
      const repairedAfterMs = await waitFor(
        'the stale "active" entries of revoked sessions to be replaced in Redis',
        async () => ((await redisGet(redis.url, revokedKeys)).every((value) => value !== ACTIVE) ? Date.now() - upAt : undefined),
        10_000,
      ).catch(() => null);
      const stillStale = (await redisGet(redis.url, revokedKeys)).filter((value) => value === ACTIVE).length;
      await stream.until('150 requests after Redis returned', () => stream.count((record) => record.phaseAtStart === 'after') >= 150);
      await stream.stop();
      const watched = await watcher.stop();

      // --- What held (the most important first).
      expect({ revokedSessionsAccepted: watched.acceptedCount, examples: watched.accepted }).toEqual({ revokedSessionsAccepted: 0, examples: [] });
      expect(stream.violations).toEqual([]);
      expect(watched.unexpected).toEqual([]);
      expect(recoveredHealth.status).toBe(200);
      expect({ staleActiveEntriesLeftInRedis: stillStale }).toEqual({ staleActiveEntriesLeftInRedis: 0 });
      const answered = stream.revocations.flatMap((revocation) => revocation.sessionIds);
      expect(await notRevoked(database.url, answered)).toEqual([]);
      for (const device of revokedVictimDevices) {
        expect({ session: device.sessionId, status: (await web.call('GET', '/auth/me', { token: device.accessToken })).status }).toEqual({
          session: device.sessionId,
          status: 401,
        });
      }
      for (const device of victims.flatMap((victim) => victim.kept)) {
        expect({ session: device.sessionId, status: (await web.call('GET', '/auth/me', { token: device.accessToken })).status }).toEqual({
          session: device.sessionId,
          status: 200,
        });
      }

      const [{ revoked_in_outage }] = await sql<{ revoked_in_outage: number }>(
        database.url,
        'SELECT count(*)::int AS revoked_in_outage FROM sessions WHERE revoked_at >= $1 AND revoked_at < $2',
        [new Date(downAt), new Date(upAt)],
      );
      printReport('Redis outage: what was injected and what held', {
        seed: runSeed,
        'requests (total)': stream.records.length + watched.requests,
        'requests by phase': Object.fromEntries(
          ['before', 'outage', 'restart', 'after'].map((phase) => [phase, stream.count((record) => record.phaseAtStart === phase)]),
        ),
        'revocations answered while Redis was down (stream + 5 deliberate)': revocationsInOutage() + victims.length,
        'sessions revoked in PostgreSQL while Redis was down': revoked_in_outage,
        'stale "active" entries Redis came back with': onDisk.length,
        'revoked-token probes during the restart (all 401)': watched.requests,
        'outage length (ms)': upAt - downAt,
        'cache reported up after restart (ms)': healthUpAfterMs,
        'stale entries repaired in Redis after restart (ms)': repairedAfterMs,
        'statuses (outage)': stream.statusTable((record) => record.phaseAtStart === 'outage'),
        'statuses (after)': stream.statusTable((record) => record.phaseAtStart === 'after'),
        'slowest answer (ms)': Math.max(...stream.records.map((record) => record.ms)),
        'marker writes that failed, queued in the outbox (log lines)': service.structuredLogs('cache_revocation_marker_queued').length,
        'run time (ms)': Date.now() - started,
      });
    } finally {
      await stream.stop();
      await watcher?.stop();
    }
  });
});

function victimOf(victims: readonly Victim[], device: Device): Victim {
  return victims.find((victim) => victim.account.devices.includes(device))!;
}

/** Five accounts with two sessions each, and the revocation each will suffer during the outage. */
async function prepareVictims(web: Http): Promise<Victim[]> {
  const make = async (label: string) => {
    const account = await registerAccount(web, label);
    await addDevice(web, account);
    await addDevice(web, account);
    return account;
  };
  const [loggedOut, revokedAll, deleted, forced, passwordChanged] = await Promise.all(
    ['victim-logout', 'victim-revoke-all', 'victim-delete', 'victim-admin', 'victim-password'].map(make),
  );
  return [
    {
      account: loggedOut,
      revoked: [loggedOut.devices[0]],
      kept: [loggedOut.devices[1]],
      revoke: async (http) => ({
        answer: String(
          (await http.call('POST', '/auth/logout', { body: { refreshToken: loggedOut.devices[0].refreshToken }, token: loggedOut.devices[0].accessToken }))
            .status,
        ),
        expected: '200',
      }),
    },
    {
      account: revokedAll,
      revoked: [...revokedAll.devices],
      kept: [],
      revoke: async (http) => {
        const response = await http.call('POST', '/auth/sessions/revoke-all', { body: {}, token: revokedAll.devices[0].accessToken });
        const { revokedCount, sessionIds } = response.body ?? {};
        return { answer: `${response.status} ${JSON.stringify({ revokedCount, ended: sessionIds?.length })}`, expected: '200 {"revokedCount":2,"ended":2}' };
      },
    },
    {
      account: deleted,
      revoked: [deleted.devices[1]],
      kept: [deleted.devices[0]],
      revoke: async (http) => ({
        answer: String((await http.call('DELETE', `/auth/sessions/${deleted.devices[1].sessionId}`, { token: deleted.devices[0].accessToken })).status),
        expected: '200',
      }),
    },
    {
      account: forced,
      revoked: [...forced.devices],
      kept: [],
      revoke: async (_web, admin, adminToken) => {
        const response = await admin.call('POST', `/admin/users/${forced.userId}/sessions/revoke-all`, {
          body: { reason: 'account compromised' },
          token: adminToken,
        });
        // The admin's answer is a receipt: the count, and when the ended sessions' last access token would have expired.
        const { revokedCount, accessTokensValidUntil } = response.body ?? {};
        const receipt = { revokedCount, receiptHasExpiry: typeof accessTokensValidUntil === 'string' && !Number.isNaN(Date.parse(accessTokensValidUntil)) };
        return { answer: `${response.status} ${JSON.stringify(receipt)}`, expected: '200 {"revokedCount":2,"receiptHasExpiry":true}' };
      },
    },
    {
      account: passwordChanged,
      revoked: [passwordChanged.devices[1]],
      kept: [passwordChanged.devices[0]],
      revoke: async (http) => ({
        answer: String(
          (
            await http.call('POST', '/auth/password', {
              body: { currentPassword: passwordChanged.password, newPassword: 'a brand new password' },
              token: passwordChanged.devices[0].accessToken,
            })
          ).status,
        ),
        expected: '200',
      }),
    },
  ];
}

/** Presents revoked sessions' tokens in a loop until stopped; any 200 is recorded. */
function watchRevoked(web: Http, devices: readonly Device[]) {
  let stopping = false;
  let requests = 0;
  let acceptedCount = 0;
  const accepted: string[] = [];
  const unexpected: string[] = [];
  if (devices.length === 0) throw new Error('nothing to watch');
  const deadline = Date.now() + 60_000;
  const loop = (async () => {
    while (!stopping && Date.now() < deadline) {
      for (const device of devices) {
        const response = await web.call('GET', '/auth/me', { token: device.accessToken });
        requests += 1;
        if (response.status === 200) {
          acceptedCount += 1;
          if (accepted.length < 10) accepted.push(`session ${device.sessionId} accepted at ${new Date(response.endedAt).toISOString()}`);
        } else if (response.status !== 401) {
          unexpected.push(`session ${device.sessionId}: ${response.status} ${response.error ?? ''}`);
          if (response.status === 0) await delay(50);
        }
      }
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      return { requests, acceptedCount, accepted, unexpected: unexpected.slice(0, 10) };
    },
  };
}
