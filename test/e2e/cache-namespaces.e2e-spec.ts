import { SESSION_CACHE, type SessionCache } from '../../libs/sessions/src/application/ports/session-cache.port';
import { printReport, redisGet, sessionKey } from '../resilience/harness';
import { bearer, signUp } from '../support/api';
import { expectEventually } from '../support/eventually';
import { RedisServer } from '../support/redis-server';
import { waitFor } from '../support/service-process';
import { sql } from '../support/sql';
import { deleteRedisKeys, testRedisPrefix } from '../support/test-database';
import { startTestStack, TEST_REDIS_URL, type TestStack } from '../support/test-app';

jest.setTimeout(60_000);

/** Polls while the token is accepted, for at most `boundMs`; the first other status and how long it took. */
async function refusedWithin(stack: TestStack, accessToken: string, boundMs: number): Promise<{ status: number; afterMs: number }> {
  const started = Date.now();
  const status = await expectEventually(
    async () => {
      const { status } = await stack
        .http()
        .get('/auth/me')
        .set(...bearer(accessToken));
      expect(status).not.toBe(200);
      return status;
    },
    { timeoutMs: boundMs, intervalMs: 20 },
  );
  return { status, afterMs: Date.now() - started };
}

/**
 * Three deployments on one database, each with a cache of its own: A, B with another key prefix
 * on the same Redis, and C with A's prefix on another Redis (another region). A revocation
 * through A is marked inline in A's cache only; B and C hold cached "active" answers for the
 * session. Each of them must get the marker under its own keys, from the rows queued for its
 * namespace, and none may take another's.
 */
describe('deployments with caches of their own on one database', () => {
  let otherRedis: RedisServer;
  let a: TestStack;
  let b: TestStack;
  let c: TestStack;
  const prefixB = testRedisPrefix('namespace-b');

  beforeAll(async () => {
    otherRedis = await RedisServer.start();
    a = await startTestStack({ label: 'namespace-a' });
    b = await startTestStack({ label: 'namespace-b', shareWith: a, sessions: { cacheKeyPrefix: prefixB } });
    c = await startTestStack({ label: 'namespace-c', shareWith: a, redisUrl: otherRedis.url });
  }, 45_000);

  afterAll(async () => {
    await c?.close();
    await b?.close();
    await a?.close();
    await deleteRedisKeys(TEST_REDIS_URL, prefixB);
    await otherRedis?.stop();
  });

  const namespaceOf = (stack: TestStack) => stack.web.get<SessionCache>(SESSION_CACHE).namespace;

  it('gives every namespace on the database the marker of a revocation made in another, under its own keys', async () => {
    const [device] = await signUp(a, 1, 'namespaces');
    for (const stack of [b, c])
      await stack
        .http()
        .get('/auth/me')
        .set(...bearer(device.accessToken))
        .expect(200);
    const keyA = sessionKey(a.cachePrefix, device.userId, device.sessionId);
    const keyB = sessionKey(prefixB, device.userId, device.sessionId);
    // The refill after a store read is best effort and not awaited by the request (see SessionAuthenticator).
    await expectEventually(async () => expect(await redisGet(TEST_REDIS_URL, [keyA, keyB])).toEqual(['a', 'a']));
    await expectEventually(async () => expect(await redisGet(otherRedis.url, [keyA])).toEqual(['a']));

    await a.http().post('/auth/logout').send({ refreshToken: device.refreshToken }).expect(200);
    const inB = await refusedWithin(b, device.accessToken, 5_000);
    const inC = await refusedWithin(c, device.accessToken, 5_000);
    expect(inB.status).toBe(401);
    expect(inC.status).toBe(401);
    expect(await redisGet(TEST_REDIS_URL, [keyA, keyB])).toEqual(['r', 'r']);
    expect(await redisGet(otherRedis.url, [keyA])).toEqual(['r']);
    // A's own rows (queued with the revocation, written inline too) are drained by A on the commit's NOTIFY.
    await waitFor(
      'every namespace to drain its markers',
      async () => (await sql(a.databaseUrl, 'SELECT namespace FROM cache_marker_outbox')).length === 0,
      5_000,
    );
    expect(new Set([namespaceOf(a), namespaceOf(b), namespaceOf(c)]).size).toBe(3);
    printReport('A logout through deployment A, refused by the others', { refusedByOtherPrefixAfterMs: inB.afterMs, refusedByOtherRedisAfterMs: inC.afterMs });
  });

  it("leaves the markers queued for a namespace to that namespace's instances", async () => {
    const [device] = await signUp(a, 1, 'namespaces-own');
    // A's admin console shares A's namespace and would drain A's rows; only A's web API drains them here.
    const adminCacheOfA = a.admin.get<SessionCache & { stop(): Promise<void>; start(): Promise<void> }>(SESSION_CACHE);
    await adminCacheOfA.stop();
    for (const stack of [b, c])
      await stack
        .http()
        .get('/auth/me')
        .set(...bearer(device.accessToken))
        .expect(200);
    // A's Redis adapter fails the marker write, as a lost connection would: A's own rows are queued too.
    const cacheOfA = (a.web.get<SessionCache>(SESSION_CACHE) as unknown as { inner: SessionCache }).inner;
    const markRevoked = cacheOfA.markRevoked.bind(cacheOfA);
    cacheOfA.markRevoked = async () => {
      throw new Error('Redis is not connected');
    };
    try {
      await a.http().post('/auth/logout').send({ refreshToken: device.refreshToken }).expect(200);
      // B and C write theirs (and refuse the session), A's waits for A.
      await waitFor(
        'B and C to write the markers queued for them',
        async () => (await sql(a.databaseUrl, 'SELECT namespace FROM cache_marker_outbox')).length === 1,
        5_000,
      );
      expect(await sql(a.databaseUrl, 'SELECT namespace FROM cache_marker_outbox')).toEqual([{ namespace: namespaceOf(a) }]);
      expect(
        (
          await b
            .http()
            .get('/auth/me')
            .set(...bearer(device.accessToken))
        ).status,
      ).toBe(401);
      expect(
        (
          await c
            .http()
            .get('/auth/me')
            .set(...bearer(device.accessToken))
        ).status,
      ).toBe(401);
      expect(await redisGet(TEST_REDIS_URL, [sessionKey(prefixB, device.userId, device.sessionId)])).toEqual(['r']);
      expect(await redisGet(otherRedis.url, [sessionKey(a.cachePrefix, device.userId, device.sessionId)])).toEqual(['r']);
      // A's own keys still say "active": its marker waits in the outbox for A, no one else wrote it.
      expect(await redisGet(TEST_REDIS_URL, [sessionKey(a.cachePrefix, device.userId, device.sessionId)])).toEqual(['a']);
    } finally {
      cacheOfA.markRevoked = markRevoked;
      await adminCacheOfA.start();
    }
    const webCacheOfA = a.web.get<SessionCache & { heartbeat(): Promise<void> }>(SESSION_CACHE);
    await webCacheOfA.heartbeat();
    expect(await sql(a.databaseUrl, 'SELECT namespace FROM cache_marker_outbox')).toEqual([]);
    expect(await redisGet(TEST_REDIS_URL, [sessionKey(a.cachePrefix, device.userId, device.sessionId)])).toEqual(['r']);
  });
});
