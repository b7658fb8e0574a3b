import { createHash } from 'node:crypto';
import { bearer, meStatus, register, signUp } from '../support/api';
import { expectEventually } from '../support/eventually';
import { RedisCluster } from '../support/redis-cluster';
import { sql } from '../support/sql';
import { GENEROUS_RATE_LIMIT, startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(120_000);

/**
 * Issue 12 #1: a Redis Cluster (six redis-server of the test's own: three masters, three replicas)
 * as the session cache, the rate limiter's and the login lockout's store, through
 * REDIS_CLUSTER_NODES' settings: one node-redis 5 cluster client inside @keyv/redis.
 */
describe('Redis Cluster as the cache, rate-limit and lockout store', () => {
  let cluster: RedisCluster;
  let stack: TestStack;

  const cacheHealth = async () => (await stack.http().get('/health/ready')).body.details?.cache;

  beforeAll(async () => {
    cluster = await RedisCluster.start();
    stack = await startTestStack({
      label: 'redis-cluster',
      redisClusterNodes: cluster.seeds,
      // Two registrations per email (a 429 is cheap to get), and a lock on the third failed login.
      settings: { rateLimit: { ...GENEROUS_RATE_LIMIT, perAccount: 2, lockoutThreshold: 3 } },
    });
    // Every start begins distrusted and repairs first; the cache is read only once trusted.
    await expectEventually(async () => expect(await cacheHealth()).toMatchObject({ status: 'up', trusted: true }), { timeoutMs: 15_000 });
  });

  afterAll(async () => {
    await stack?.close();
    await cluster?.stop();
  });

  const sessionKey = (userId: string, sessionId: string) => `${stack.cachePrefix}{${userId}}:${sessionId}`;

  it('reports the cluster as the cache in readiness, reachable and trusted', async () => {
    expect(await cacheHealth()).toEqual({ status: 'up', store: 'redis cluster (@keyv/redis)', trusted: true });
  });

  it("serves /auth/me from the cluster: the session's entry is there, and answers while PostgreSQL is not asked", async () => {
    const [device] = await signUp(stack, 1, 'cluster-me');
    // signUp's login checked /auth/me once: PostgreSQL answered, and the answer was cached.
    expect(await cluster.get(sessionKey(device.userId, device.sessionId))).toBe('a');
    // Behind the service's back (no marker): only a cache hit still answers 200.
    await sql(stack.databaseUrl, `UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE id = $1`, [device.sessionId]);
    expect(await meStatus(stack, device.accessToken)).toBe(200);
  });

  it('refuses a logged-out session at once, with its revocation marker in the cluster', async () => {
    const [phone, laptop] = await signUp(stack, 2, 'cluster-logout');
    await stack.http().post('/auth/logout').send({ refreshToken: phone.refreshToken }).expect(200);
    expect(await meStatus(stack, phone.accessToken)).toBe(401);
    expect(await meStatus(stack, laptop.accessToken)).toBe(200);
    expect(await cluster.get(sessionKey(phone.userId, phone.sessionId))).toBe('r');
  });

  it("refuses every session of a revoke-all at once, and keeps the user's keys in one hash slot", async () => {
    const devices = await signUp(stack, 3, 'cluster-revoke-all');
    const [first] = devices;
    await stack
      .http()
      .post('/auth/sessions/revoke-all')
      .set(...bearer(first.accessToken))
      .expect(200);
    for (const device of devices) expect(await meStatus(stack, device.accessToken)).toBe(401);

    const keys = await cluster.keys(`${stack.cachePrefix}{${first.userId}}:*`);
    expect(keys).toEqual(devices.map((device) => sessionKey(device.userId, device.sessionId)).sort());
    for (const key of keys) expect(await cluster.get(key)).toBe('r');
    const slots = new Set(await Promise.all(keys.map((key) => cluster.keyslot(key))));
    expect(slots.size).toBe(1);
  });

  it('counts failed logins in the cluster: the third locks the network out of the account, its keys in one slot', async () => {
    const account = await register(stack);
    const attempt = (password: string) => stack.http().post('/auth/login').send({ email: account.email, password });
    for (let i = 0; i < 3; i += 1) await attempt('not the password').expect(401);
    // Locked: even the right password is refused from this network.
    await attempt(account.password).expect(401);

    const digest = createHash('sha256').update(account.email).digest('hex').slice(0, 32);
    const keys = await cluster.keys(`${stack.cachePrefix}lockout:{${digest}}*`);
    expect(keys.some((key) => key.endsWith(':locked'))).toBe(true);
    expect(keys.some((key) => key.endsWith(':email'))).toBe(true);
    expect(new Set(await Promise.all(keys.map((key) => cluster.keyslot(key)))).size).toBe(1);
  });

  it('counts a rate limit in the cluster: the third registration of one email is refused with 429', async () => {
    const before = new Set(await cluster.keys(`${stack.cachePrefix}throttle:*`));
    const account = await register(stack);
    await stack.http().post('/auth/register').send({ email: account.email, password: account.password }).expect(409);
    await stack.http().post('/auth/register').send({ email: account.email, password: account.password }).expect(429);
    const added = (await cluster.keys(`${stack.cachePrefix}throttle:*`)).filter((key) => !before.has(key));
    // The per-account window and its block, written by the cluster's script: same hash tag, same slot.
    const blocked = added.filter((key) => key.endsWith(':blocked'));
    expect(blocked.length).toBeGreaterThanOrEqual(1);
    for (const key of blocked) {
      const window = key.slice(0, -':blocked'.length);
      expect(added).toContain(window);
      expect(await cluster.keyslot(key)).toBe(await cluster.keyslot(window));
      expect(Number(await cluster.get(window))).toBe(3);
    }
  });

  // Last: the cluster runs on with one node fewer for the rest of the file. (redis-cluster-failover.e2e-spec.ts does it under load.)
  it("distrusts the cache when the master of a user's slot is killed: revoked sessions stay refused, during and after the replica's promotion", async () => {
    const [revoked, kept, later] = await signUp(stack, 3, 'cluster-failover');
    await stack.http().post('/auth/logout').send({ refreshToken: revoked.refreshToken }).expect(200);
    expect(await meStatus(stack, kept.accessToken)).toBe(200);

    const slot = await cluster.keyslot(sessionKey(revoked.userId, revoked.sessionId));
    const master = await cluster.masterPortOf(slot);
    await cluster.kill(master);
    // The heartbeat pings every master: the one that is gone makes the cache unreachable and distrusted.
    await expectEventually(async () => expect(await cacheHealth()).toMatchObject({ status: 'degraded', trusted: false, fallback: 'postgres' }), {
      timeoutMs: 15_000,
    });
    // PostgreSQL answers while the cache is distrusted: the revoked session is refused, the live one served.
    expect(await meStatus(stack, revoked.accessToken)).toBe(401);
    expect(await meStatus(stack, kept.accessToken)).toBe(200);
    // A logout whose marker cannot be written (its master is gone, or just replaced) is refused at once all the same.
    await stack.http().post('/auth/logout').send({ refreshToken: later.refreshToken }).expect(200);
    expect(await meStatus(stack, later.accessToken)).toBe(401);

    // The replica is promoted; whatever the cache says from then on, neither revoked session gets in.
    await cluster.waitForPromotion(slot, master);
    for (let i = 0; i < 20; i += 1) {
      expect(await meStatus(stack, revoked.accessToken)).toBe(401);
      expect(await meStatus(stack, later.accessToken)).toBe(401);
      expect(await meStatus(stack, kept.accessToken)).toBe(200);
    }
    // The client finds the promoted replica, the repair re-marks the revocations, and the cache is trusted again.
    await expectEventually(async () => expect(await cacheHealth()).toEqual({ status: 'up', store: 'redis cluster (@keyv/redis)', trusted: true }), {
      timeoutMs: 20_000,
    });
    expect(await meStatus(stack, revoked.accessToken)).toBe(401);
    expect(await meStatus(stack, later.accessToken)).toBe(401);
    expect(await meStatus(stack, kept.accessToken)).toBe(200);
  });
});
