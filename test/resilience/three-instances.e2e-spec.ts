import { createCluster } from '@keyv/redis';
import { RedisCluster } from '../support/redis-cluster';
import { RoundRobinProxy } from '../support/round-robin-proxy';
import { ServiceProcess, waitFor } from '../support/service-process';
import { brokenTriads, sql } from '../support/sql';
import { createTestDatabase, type TestDatabase, testRedisPrefix } from '../support/test-database';
import { auditFromDatabase, halfDoneRevocations, revocationAudit } from './checks';
import {
  type Account,
  addDevice,
  type CallOptions,
  type Device,
  Http,
  type HttpResult,
  printReport,
  registerAccount,
  seed,
  seededRandom,
  sessionKey,
} from './harness';

/**
 * Issue 12 #3: three processes of the web API behind a round-robin TCP balancer, on one
 * PostgreSQL database and one Redis Cluster (six redis-server of the file's own). A revocation
 * answered by any instance is refused by each of the others at once, for sessions their cache
 * had just served as active; and concurrent revoke-alls, logouts and refreshes, spread over the
 * three through the balancer and straight at each, add up exactly: the counts answered, the
 * sessions PostgreSQL shows as ended, the audit trail and the markers in the cluster.
 */

jest.setTimeout(90_000);

const NAMES = ['A', 'B', 'C'] as const;
/** What the session cache holds for an active session, and for a revoked one (redis-session-cache.ts). */
const ACTIVE = 'a';
const REVOKED = 'r';
/** What an instance logs when its cache loses its trust or a marker is left to the outbox: why a revocation could be late elsewhere. */
const CACHE_EVENTS = ['session_cache_distrusted', 'cache_revocation_marker_queued', 'queued_revocation_markers_failed'];

/** An Http that counts its requests, so the balancer's connections can be checked against them. */
class CountingHttp extends Http {
  requests = 0;

  override async call(method: string, path: string, options?: CallOptions): Promise<HttpResult> {
    this.requests += 1;
    return super.call(method, path, options);
  }
}

/** The results of starts run together: what started is kept (for afterAll to stop), then the first failure is thrown. */
function throwFirstFailure(results: readonly PromiseSettledResult<unknown>[]): void {
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Audit entries per `action:outcome`. */
async function auditCounts(url: string): Promise<Record<string, number>> {
  const rows = await sql<{ key: string; count: number }>(url, "SELECT action || ':' || outcome AS key, count(*)::int AS count FROM audit_entries GROUP BY 1");
  return Object.fromEntries(rows.map((row) => [row.key, row.count]));
}

describe('three instances behind a round-robin proxy, on one PostgreSQL and one Redis Cluster', () => {
  let cluster: RedisCluster | undefined;
  let database: TestDatabase | undefined;
  const services: ServiceProcess[] = [];
  let proxy: RoundRobinProxy;
  let direct: Http[];
  let balanced: CountingHttp;
  let cache: ReturnType<typeof createCluster>;
  const prefix = testRedisPrefix('three-instances');

  beforeAll(async () => {
    throwFirstFailure(
      await Promise.allSettled([
        RedisCluster.start().then((started) => {
          cluster = started;
        }),
        createTestDatabase().then((created) => {
          database = created;
        }),
      ]),
    );
    const options = {
      apps: 'web' as const,
      databaseUrl: database!.url,
      redisClusterNodes: cluster!.seeds,
      cachePrefix: prefix,
      // The default, not the outage tests' 100 ms: a marker write that times out on a loaded machine leaves the
      // others trusting "active" until the outbox drain writes it (milliseconds, the partitioned-instance test's bound),
      // and this test is about many instances, not a slow cache.
      env: { CACHE_TIMEOUT_MS: '250' },
    };
    // Started together: the migrations' advisory lock must let exactly one of them migrate.
    throwFirstFailure(
      await Promise.allSettled(
        NAMES.map((name, i) =>
          ServiceProcess.start({ ...options, label: `instance-${name}` }).then((service) => {
            services[i] = service;
          }),
        ),
      ),
    );
    direct = services.map((service, i) => new Http(service.webUrl, NAMES[i]));
    proxy = await RoundRobinProxy.start(services.map((service, i) => ({ name: NAMES[i], port: service.webPort })));
    // A connection per request: a TCP balancer spreads connections, and a kept-alive one would stay with one instance.
    balanced = new CountingHttp(proxy.url, 'proxy', 20_000, 'close');
    // The test's own view of the cluster, to read the service's keys.
    cache = createCluster({ rootNodes: cluster!.seeds.map((seed) => ({ url: `redis://${seed}` })) });
    cache.on('error', () => undefined);
    await cache.connect();
    // Every start begins distrusting the cache and repairs it first; only a trusted cache is filled.
    await Promise.all(
      direct.map((http) =>
        waitFor(`${http.name} to trust the cache`, async () => (await http.call('GET', '/health/ready')).body?.details?.cache?.trusted === true, 20_000, 100),
      ),
    );
  }, 90_000);

  afterAll(async () => {
    cache?.destroy();
    await proxy?.close();
    await Promise.all(services.map((service) => service?.stop()));
    await database?.drop();
    await cluster?.stop();
  });

  const cacheEvents = () =>
    services.flatMap((service, i) =>
      CACHE_EVENTS.flatMap((msg) => service.structuredLogs(msg).map(({ payload }) => `${NAMES[i]}: ${JSON.stringify(payload).slice(0, 300)}`)),
    );
  const me = async (http: Http, device: Device) => (await http.call('GET', '/auth/me', { token: device.accessToken })).status;
  const keyOf = (account: Account, device: Device) => sessionKey(prefix, account.userId, device.sessionId);

  /**
   * Each device answered 200 by each of `instances`, and cached "active" in the cluster: the entry
   * an instance could go on trusting after another instance revoked the session. A request fills
   * the cache only while its instance trusts it (a slow call under load distrusts it again), so
   * the ones not cached yet are asked again.
   */
  async function seenActive(account: Account, devices: readonly Device[], instances: readonly Http[]): Promise<void> {
    for (const device of devices) for (const http of instances) expect(await me(http, device)).toBe(200);
    await waitFor('the sessions to be cached "active" in the cluster', async () => {
      const values = await cache.mGet(devices.map((device) => keyOf(account, device)));
      if (values.every((value) => value === ACTIVE)) return true;
      for (const [i, device] of devices.entries()) {
        if (values[i] !== ACTIVE) for (const http of instances) if ((await me(http, device)) !== 200) throw new Error(`${http.name} refused a live session`);
      }
      return false;
    });
  }

  it('migrated the schema once, though the three started together', async () => {
    const rows = await sql<{ name: string; runs: number }>(database!.url, 'SELECT name, count(*)::int AS runs FROM sessions.migrations GROUP BY name');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((row) => row.runs !== 1)).toEqual([]);
  });

  it('refuses at once, on each of the other two, a logout and a revoke-all answered by any one instance', async () => {
    for (const [x, via] of direct.entries()) {
      const others = direct.filter((_, i) => i !== x);
      const account = await registerAccount(balanced, `three-instances-${via.name}`);
      const [loggedOut, caller, bystander] = [await addDevice(balanced, account), await addDevice(balanced, account), await addDevice(balanced, account)];
      await seenActive(account, account.devices, others);

      const logout = await via.call('POST', '/auth/logout', { body: { refreshToken: loggedOut.refreshToken }, token: loggedOut.accessToken });
      expect(logout.status).toBe(200);
      // No waiting: answered means enforced, on every instance.
      expect(await Promise.all(others.map((http) => me(http, loggedOut)))).toEqual([401, 401]);

      const revoked = await via.call('POST', '/auth/sessions/revoke-all', { body: {}, token: caller.accessToken });
      expect([revoked.status, revoked.body]).toEqual([200, expect.objectContaining({ revokedCount: 2, sessionIds: [expect.any(String), expect.any(String)] })]);
      for (const device of [caller, bystander]) expect(await Promise.all(others.map((http) => me(http, device)))).toEqual([401, 401]);
      expect(await me(via, bystander)).toBe(401);

      // The user's keys are the three sessions' markers, in one hash slot of the cluster.
      const keys = account.devices.map((device) => keyOf(account, device));
      expect(await cluster!.keys(`${prefix}{${account.userId}}:*`)).toEqual([...keys].sort());
      expect(await cache.mGet(keys)).toEqual([REVOKED, REVOKED, REVOKED]);
      expect(new Set(await Promise.all(keys.map((key) => cluster!.keyslot(key)))).size).toBe(1);
    }
  });

  it('adds up exactly under concurrent revoke-alls, logouts and refreshes spread over the three, through the proxy and straight at each', async () => {
    const started = Date.now();
    const url = database!.url;
    const runSeed = seed();
    const random = seededRandom(runSeed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    // Half the requests go through the balancer, the other half straight at one instance.
    const targets: Http[] = [balanced, balanced, balanced, ...direct];
    // The first test's Attempted entries are written asynchronously: counted before, not in this test's deltas.
    await waitFor('the operations of the first test to be closed', async () => (await brokenTriads(url)).length === 0, 15_000, 100);
    const auditBefore = await auditCounts(url);
    const [connectionsBefore, proxiedBefore] = [proxy.connections, balanced.requests];
    const requestsBefore = services.map((service) => service.structuredLogs('request_completed').length);

    const revokeAlls: Array<{ via: string; status: number; revokedCount?: number }> = [];
    const logouts: Array<{ via: string; device: Device }> = [];
    const refreshes: Array<{ via: string; status: number; device: Device }> = [];
    const refreshed = new Set<Device>();
    const viaCounts: Record<string, number> = {};
    const unexpected: string[] = [];
    const notRefusedAtOnce: string[] = [];
    let probes = 0;
    const send = (http: Http, method: string, path: string, options: CallOptions) => {
      viaCounts[http.name] = (viaCounts[http.name] ?? 0) + 1;
      return http.call(method, path, options);
    };
    /** Asked right after a revocation answered: each instance, directly, must refuse the session. */
    const refusedEverywhere = async (what: string, device: Device) => {
      const statuses = await Promise.all(direct.map((http) => me(http, device)));
      probes += statuses.length;
      if (statuses.some((status) => status !== 401))
        notRefusedAtOnce.push(`${what}: session ${device.sessionId} then ${direct.map((http, i) => `${http.name} ${statuses[i]}`).join(', ')}`);
    };

    /**
     * Refreshes one after the other (so the client always presents its latest refresh token: a
     * rotated-away one would be reuse), stopping at a 401, then perhaps a logout.
     */
    const refreshThenMaybeLogout = async (device: Device, plan: { refreshes: number; logout: boolean }, onAnswered: () => void) => {
      for (let step = 0; step < plan.refreshes; step += 1) {
        const via = pick(targets);
        const response = await send(via, 'POST', '/auth/refresh', { body: { refreshToken: device.refreshToken } });
        refreshes.push({ via: via.name, status: response.status, device });
        onAnswered();
        if (response.status === 401) break; // A concurrent revoke-all ended the session (checked below).
        if (response.status !== 200 || response.body.sessionId !== device.sessionId) {
          unexpected.push(`refresh via ${via.name}: ${response.status} ${JSON.stringify(response.body)}`);
          return;
        }
        device.accessToken = response.body.accessToken;
        device.refreshToken = response.body.refreshToken;
        refreshed.add(device);
      }
      if (plan.logout) {
        const via = pick(targets);
        const response = await send(via, 'POST', '/auth/logout', { body: { refreshToken: device.refreshToken }, token: device.accessToken });
        onAnswered();
        if (response.status !== 200) unexpected.push(`logout via ${via.name}: ${response.status} ${JSON.stringify(response.body)}`);
        else {
          logouts.push({ via: via.name, device });
          await refusedEverywhere(`logout via ${via.name}`, device);
        }
      }
    };

    const revokeAll = async (account: Account, caller: Device) => {
      // Every session opened before the request: the revoke-all, or one before it, must have ended it.
      const before = account.devices.filter((device) => device !== caller);
      const via = pick(targets);
      const keepCurrent = random() < 0.3;
      const response = await send(via, 'POST', '/auth/sessions/revoke-all', { body: { keepCurrent }, token: caller.accessToken });
      if (response.status === 200) {
        revokeAlls.push({ via: via.name, status: 200, revokedCount: response.body.revokedCount });
        if (!keepCurrent) await refusedEverywhere(`revoke-all via ${via.name} (the caller)`, caller);
        for (const device of before) {
          const on = pick(direct);
          const status = await me(on, device);
          probes += 1;
          if (status !== 401) notRefusedAtOnce.push(`revoke-all via ${via.name}: session ${device.sessionId} then ${on.name} ${status}`);
        }
      } else if (response.status === 401) {
        // A concurrent revoke-all ended the caller's own session first; nothing was attempted.
        revokeAlls.push({ via: via.name, status: 401 });
      } else unexpected.push(`revoke-all via ${via.name}: ${response.status} ${JSON.stringify(response.body)}`);
    };

    /**
     * A round of one account: four devices refresh and some log out, while three revoke-alls,
     * fired together, race them and each other. The revoke-alls go once a random number of the
     * round's refreshes and logouts have answered, so some land before, some race and some come after.
     */
    const round = async (account: Account) => {
      const devices: Device[] = [];
      for (let d = 0; d < 4; d += 1) devices.push(await addDevice(pick(targets), account));
      const callers: Device[] = [];
      for (let c = 0; c < 3; c += 1) callers.push(await addDevice(pick(targets), account));
      const plans = devices.map(() => ({ refreshes: Math.floor(random() * 3), logout: random() < 0.5 }));
      const planned = plans.reduce((sum, plan) => sum + plan.refreshes + (plan.logout ? 1 : 0), 0);
      let fire!: () => void;
      const fired = new Promise<void>((resolve) => (fire = resolve));
      const trigger = Math.floor(random() * (planned + 1));
      let answered = 0;
      if (trigger === 0) fire();
      const onAnswered = () => {
        answered += 1;
        if (answered === trigger) fire();
      };
      const chains = devices.map((device, i) => refreshThenMaybeLogout(device, plans[i], onAnswered));
      // A chain cut short by a 401 answers fewer than planned: then the revoke-alls go after the chains.
      const burst = Promise.race([fired, Promise.all(chains)]).then(() => Promise.all(callers.map((caller) => revokeAll(account, caller))));
      await Promise.all([...chains, burst]);
    };

    const accounts = await Promise.all(Array.from({ length: 6 }, (_, i) => registerAccount(pick(targets), `three-instances-load-${i}`)));
    await Promise.all(
      accounts.map(async (account) => {
        for (let r = 0; r < 3; r += 1) await round(account);
      }),
    );
    expect(unexpected).toEqual([]);
    // On a failure, what the instances logged about the cache says whether a marker write failed.
    expect({ notRefusedAtOnce, ...(notRefusedAtOnce.length > 0 ? { cacheEvents: cacheEvents() } : {}) }).toEqual({
      notRefusedAtOnce: [],
    });

    // The audit saga writes Attempted entries asynchronously: wait until every operation is closed.
    await waitFor('every audited operation to be closed', async () => (await brokenTriads(url)).length === 0, 15_000, 100).catch(() => undefined);
    expect(await brokenTriads(url)).toEqual([]);

    const userIds = accounts.map((account) => account.userId);
    const sessions = await sql<{ id: string; revoked_reason: string | null }>(url, 'SELECT id, revoked_reason FROM sessions WHERE user_id = ANY($1::uuid[])', [
      userIds,
    ]);
    const reasonOf = new Map(sessions.map((row) => [row.id, row.revoked_reason]));
    const endedBy = (reason: string) => sessions.filter((row) => row.revoked_reason === reason).length;
    const auditNow = await auditCounts(url);
    const audited = (key: string) => (auditNow[key] ?? 0) - (auditBefore[key] ?? 0);
    const succeededRevokeAlls = await sql<{ count: number }>(
      url,
      "SELECT (details->>'count')::int AS count FROM audit_entries WHERE action = 'sessions.revoke_all' AND outcome = 'succeeded' AND user_id = ANY($1::uuid[])",
      [userIds],
    );

    const answered = revokeAlls.filter((answer) => answer.status === 200);
    const answeredTotal = answered.reduce((sum, answer) => sum + answer.revokedCount!, 0);
    const devices = accounts.flatMap((account) => account.devices);
    // Revoke-all and logout are the only revocations here: a refresh presented a token of the past would show as refresh_token_reuse.
    expect(sessions.filter((row) => row.revoked_reason !== null && row.revoked_reason !== 'logout' && row.revoked_reason !== 'user_revoked_all')).toEqual([]);
    // The counts answered, the sessions ended and the counts audited are one number.
    expect({ endedByRevokeAll: endedBy('user_revoked_all'), audited: succeededRevokeAlls.reduce((sum, row) => sum + row.count, 0) }).toEqual({
      endedByRevokeAll: answeredTotal,
      audited: answeredTotal,
    });
    // Every logout answered 200: it ended its session (Succeeded) or found it ended by a revoke-all (Failed), never both.
    const loggedOut = sessions.filter((row) => row.revoked_reason === 'logout').map((row) => row.id);
    expect({ succeeded: audited('user.logout:succeeded'), outcomes: audited('user.logout:succeeded') + audited('user.logout:failed') }).toEqual({
      succeeded: loggedOut.length,
      outcomes: logouts.length,
    });
    const loggedOutIds = new Set(logouts.map((logout) => logout.device.sessionId));
    expect(loggedOut.filter((id) => !loggedOutIds.has(id))).toEqual([]);
    expect(logouts.filter((logout) => reasonOf.get(logout.device.sessionId) === null).map((logout) => logout.device.sessionId)).toEqual([]);
    // One Attempted and one outcome per request that reached a command: 401 revoke-alls never did.
    expect({
      revokeAllAttempted: audited('sessions.revoke_all:attempted'),
      revokeAllSucceeded: audited('sessions.revoke_all:succeeded'),
      revokeAllFailed: audited('sessions.revoke_all:failed'),
      refreshSucceeded: audited('tokens.refresh:succeeded'),
      refreshFailed: audited('tokens.refresh:failed'),
      loginSucceeded: audited('user.login:succeeded'),
    }).toEqual({
      revokeAllAttempted: answered.length,
      revokeAllSucceeded: answered.length,
      revokeAllFailed: 0,
      refreshSucceeded: refreshes.filter((refresh) => refresh.status === 200).length,
      refreshFailed: refreshes.filter((refresh) => refresh.status === 401).length,
      loginSucceeded: devices.length,
    });
    // A refresh was refused only because a revoke-all had ended its session.
    expect(
      refreshes
        .filter((refresh) => refresh.status === 401 && reasonOf.get(refresh.device.sessionId) !== 'user_revoked_all')
        .map((refresh) => refresh.device.sessionId),
    ).toEqual([]);
    const revocations = await revocationAudit(url, await auditFromDatabase(url));
    expect({
      revokedTwice: revocations.revokedTwice,
      revokedWithoutSucceeded: revocations.revokedWithoutSucceeded,
      succeededNotInDatabase: revocations.succeededNotInDatabase,
      countMismatch: revocations.countMismatch,
      reasonMismatch: revocations.reasonMismatch,
    }).toEqual({ revokedTwice: [], revokedWithoutSucceeded: [], succeededNotInDatabase: [], countMismatch: [], reasonMismatch: [] });
    expect((await halfDoneRevocations(url)).halfDone).toEqual([]);

    // Every instance, and the balancer, agree with PostgreSQL about every session.
    const disagreements: string[] = [];
    for (const device of devices) {
      const expected = reasonOf.get(device.sessionId) === null ? 200 : 401;
      const statuses = await Promise.all([...direct, balanced].map((http) => me(http, device)));
      if (statuses.some((status) => status !== expected))
        disagreements.push(`${device.sessionId}: PostgreSQL ${expected}, ${[...direct, balanced].map((http, i) => `${http.name} ${statuses[i]}`).join(', ')}`);
    }
    expect(disagreements).toEqual([]);

    // The cluster holds a marker for every ended session (the outbox writes any the revoking instance could not),
    // each user's keys in one slot: MGET is refused across slots.
    await waitFor(
      'a marker in the cluster for every ended session',
      async () => {
        for (const account of accounts) {
          const values = await cache.mGet(account.devices.map((device) => keyOf(account, device)));
          if (account.devices.some((device, i) => reasonOf.get(device.sessionId) !== null && values[i] !== REVOKED)) return false;
        }
        return true;
      },
      10_000,
      100,
    );

    // A session refreshed and then ended stays ended: its latest refresh token is refused, through any instance.
    const refreshedThenEnded = devices.filter((device) => refreshed.has(device) && reasonOf.get(device.sessionId) !== null);
    const refreshStatuses = await Promise.all(
      refreshedThenEnded.map(async (device) => (await balanced.call('POST', '/auth/refresh', { body: { refreshToken: device.refreshToken } })).status),
    );
    expect(refreshStatuses.filter((status) => status !== 401)).toEqual([]);
    // Every round ends its four devices, and its revoke-alls wait for a random number of its refreshes and logouts:
    // across eighteen rounds, some devices always refreshed before they were ended.
    expect(refreshedThenEnded.length).toBeGreaterThan(0);

    // The balancer spread its requests: one connection each, every instance given some; and each instance was also asked directly.
    const connections = Object.fromEntries(NAMES.map((name) => [name, proxy.connections[name] - connectionsBefore[name]]));
    expect(proxy.total - Object.values(connectionsBefore).reduce((sum, count) => sum + count, 0)).toBe(balanced.requests - proxiedBefore);
    for (const name of NAMES) {
      expect(connections[name]).toBeGreaterThan(0);
      expect(viaCounts[name]).toBeGreaterThan(0);
    }

    const served = services.map((service, i) => service.structuredLogs('request_completed').length - requestsBefore[i]);
    printReport('Three instances behind a round-robin proxy, one PostgreSQL, one Redis Cluster: revoke-alls, logouts and refreshes', {
      seed: runSeed,
      'balancer connections per instance (A / B / C)': NAMES.map((name) => connections[name]).join(' / '),
      'requests served per instance, by its request log (A / B / C)': served.join(' / '),
      'revoke-alls, logouts and refreshes sent via (proxy / A / B / C)': ['proxy', ...NAMES].map((name) => viaCounts[name] ?? 0).join(' / '),
      'revoke-alls answered 200 / refused 401 (caller ended by a concurrent one)': `${answered.length} / ${revokeAlls.length - answered.length}`,
      'sum of revokedCount = sessions ended by revoke-all = sum of audited counts': answeredTotal,
      'logouts answered 204 / of which ended their session': `${logouts.length} / ${loggedOut.length}`,
      'refreshes answered 200 / 401': `${refreshes.filter((refresh) => refresh.status === 200).length} / ${refreshes.filter((refresh) => refresh.status === 401).length}`,
      'sessions refreshed then ended, refresh refused after': refreshedThenEnded.length,
      'GET /auth/me right after a revocation answered, on an instance asked directly (all 401)': probes,
      'sessions checked on every instance and the balancer': devices.length,
      'cache distrusted or marker writes left to the outbox (whole file, all instances)': cacheEvents().length,
      'run time (ms)': Date.now() - started,
    });
  });
});
