import { DEFAULT_LIFETIMES } from '../../libs/sessions/src/domain/session-rules';
import { SESSION_CACHE } from '../../libs/sessions/src/application/ports/session-cache.port';
import { createClient } from '@keyv/redis';
import { ReconcilingSessionCache } from '../../libs/sessions/src/application/session-cache/reconciling-session-cache';
import { CacheProbe } from '../../libs/sessions/src/application/ports/session-cache.port';
import { RevokedSessionRef } from '../../libs/sessions/src/application/ports/revoked-sessions.port';
import { RedisSessionCache } from '../../libs/sessions/src/infrastructure/cache/redis-session-cache';
import { systemClock } from '../../libs/sessions/src/application/ports/clock.port';
import { bearer, signUp } from '../support/api';
import { RedisServer } from '../support/redis-server';
import { waitFor } from '../support/service-process';
import { testRedisPrefix } from '../support/test-database';
import { startTestStack, type TestStack } from '../support/test-app';
import { printReport, redisGet, sessionKey } from './harness';

jest.setTimeout(60_000);

const ACTIVE = 'a';
const REVOKED = 'r';

/** One command on a connection of the test's own. */
async function redisCommand(url: string, args: string[]): Promise<unknown> {
  const client = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 2_000 } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}

/** Kills Redis and brings it back on its port from the RDB snapshot in its directory, at once. */
async function restartFromSnapshot(redis: RedisServer): Promise<number> {
  const killedAt = Date.now();
  await redis.signal('SIGKILL');
  await redis.start();
  return Date.now() - killedAt;
}

/**
 * Redis is killed and back within milliseconds from an older RDB snapshot, which still holds
 * "active" for a session logged out after the snapshot and lacks its revocation marker. No
 * request was made while it was down, so no call failed: the service must notice the change of
 * dataset itself (the dropped connection, the server's run_id, the epoch counter) and re-mark
 * before it trusts the cache again.
 */
describe('Redis restored from an older snapshot between two heartbeats', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    // Not append-only: a restart loads the RDB snapshot the test took with SAVE.
    redis = await RedisServer.start();
  }, 30_000);

  afterAll(async () => {
    await redis?.stop();
  });

  describe.each(['keyv-redis', 'redis-yet'] as const)('through the %s cache store', (store) => {
    let stack: TestStack;

    beforeAll(async () => {
      stack = await startTestStack({ label: `redis-snapshot-${store}`, redisUrl: redis.url, settings: { cache: { redisUrl: redis.url, store } } });
    }, 30_000);

    afterAll(async () => {
      await stack?.close();
    });

    it('refuses a logged-out token on every request after Redis came back from a snapshot taken before the logout', async () => {
      // The heartbeats are driven by the test, so no timer can stumble on the outage by luck.
      const webCache = stack.web.get<ReconcilingSessionCache>(SESSION_CACHE);
      const adminCache = stack.admin.get<ReconcilingSessionCache>(SESSION_CACHE);
      await webCache.stop();
      await adminCache.stop();

      const [device] = await signUp(stack, 1, 'snapshot');
      const key = sessionKey(stack.cachePrefix, device.userId, device.sessionId);
      await stack
        .http()
        .get('/auth/me')
        .set(...bearer(device.accessToken))
        .expect(200);
      await waitFor('the session to be cached "active"', async () => (await redisGet(redis.url, [key]))[0] === ACTIVE);
      expect(await redisCommand(redis.url, ['SAVE'])).toBe('OK');

      await stack.http().post('/auth/logout').send({ refreshToken: device.refreshToken }).expect(200);
      expect(await redisGet(redis.url, [key])).toEqual([REVOKED]);

      const downForMs = await restartFromSnapshot(redis);
      expect(await redisGet(redis.url, [key])).toEqual([ACTIVE]); // the premise: the marker is gone, "active" is back

      // The service's own connection is back too (its PING answers), and its heartbeat runs.
      await waitFor('the service to reconnect to Redis', () => webCache.ping().then(() => true), 10_000);
      await webCache.heartbeat();
      await webCache.heartbeat();

      const statuses: number[] = [];
      for (let i = 0; i < 20; i += 1) {
        statuses.push(
          (
            await stack
              .http()
              .get('/auth/me')
              .set(...bearer(device.accessToken))
          ).status,
        );
        if (i % 5 === 4) await webCache.heartbeat();
      }
      expect(statuses).toEqual(statuses.map(() => 401));
      expect(webCache.distrusted).toBe(false);
      expect(await redisGet(redis.url, [key])).toEqual([REVOKED]);
      printReport(`Redis restored from a snapshot taken before a logout (${store})`, {
        downForMs,
        probesAfterRestart: statuses.length,
        accepted: statuses.filter((s) => s === 200).length,
      });
    });
  });

  describe('with the connection events out of the picture (a proxy or VIP that keeps the socket open)', () => {
    /** The Redis adapter on a client of the test's own, deaf to connection events; optionally blind to INFO. */
    async function deafCache(options: { hideServerId: boolean }) {
      const client = createClient({ url: redis.url, disableOfflineQueue: true, socket: { reconnectStrategy: () => 20 } });
      client.on('error', () => undefined);
      await client.connect();
      const prefix = testRedisPrefix('snapshot-deaf');
      class DeafRedisSessionCache extends RedisSessionCache {
        override onConnectionLost(): void {}
        override async probe(): Promise<CacheProbe> {
          const probe = await super.probe();
          return options.hideServerId ? { ...probe, serverId: null } : probe;
        }
      }
      const inner = new DeafRedisSessionCache(client, { keyPrefix: prefix, timeoutMs: 500 });
      const revoked: RevokedSessionRef[] = [];
      const outbox = { drain: async () => 0, registerNamespace: async () => 'live' as const };
      const cache = new ReconcilingSessionCache(inner, outbox, { listSince: async () => revoked }, systemClock, { lifetimes: DEFAULT_LIFETIMES });
      return { client, prefix, revoked, cache };
    }

    it.each([
      { name: 'its run_id', hideServerId: false },
      { name: 'its epoch alone (INFO refused)', hideServerId: true },
    ])('notices the older dataset by $name and re-marks before trusting it', async ({ hideServerId }) => {
      const { client, prefix, revoked, cache } = await deafCache({ hideServerId });
      try {
        await cache.heartbeat();
        expect(cache.distrusted).toBe(false);
        await cache.rememberActive('u1', 's1', 60);
        await cache.heartbeat();
        expect(await redisCommand(redis.url, ['SAVE'])).toBe('OK');
        // With INFO refused, only the epoch can tell: a heartbeat takes it past the snapshot's. With
        // run_id, no heartbeat here, so the epoch after the restart is above the last one seen.
        if (hideServerId) await cache.heartbeat();
        await cache.markRevoked('u1', ['s1'], 960);
        revoked.push({ userId: 'u1', sessionId: 's1' });

        await restartFromSnapshot(redis);
        const key = sessionKey(prefix, 'u1', 's1');
        expect(await redisGet(redis.url, [key])).toEqual([ACTIVE]);
        await waitFor('the test client to reconnect', () => client.isReady, 10_000);

        await cache.heartbeat();
        expect(await cache.get('u1', 's1')).toBe('revoked');
        expect(await redisGet(redis.url, [key])).toEqual([REVOKED]);
      } finally {
        client.destroy();
      }
    });
  });
});
