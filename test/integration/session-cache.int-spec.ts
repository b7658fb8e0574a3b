import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { CACHE_MANAGER, CacheModule } from '@nestjs/cache-manager';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import KeyvRedis, { createClient } from '@keyv/redis';
import { expireRedisKeysNow } from '../support/test-database';
import { expectEventually } from '../support/eventually';
import { Cache, createCache, KeyvAdapter } from 'cache-manager';
import { redisStore, type RedisStore } from 'cache-manager-redis-yet';
import { Keyv } from 'keyv';
import { SessionCache } from '../../libs/sessions/src/application/ports/session-cache.port';
import { MemorySessionCache } from '../../libs/sessions/src/infrastructure/cache/memory-session-cache';
import { RedisSessionCache, SessionCacheUnavailableError, sessionCacheKey } from '../../libs/sessions/src/infrastructure/cache/redis-session-cache';
import { RedisClient } from '../../libs/sessions/src/infrastructure/redis/redis-client';
import { redisClientOf } from '../../libs/sessions/src/infrastructure/cache/cache-store-redis';
import { type CacheStoreKind as RedisCacheStoreKind, createRedisCacheStores, type RedisCacheStores } from '@app/runtime';
import { keyvOfRedisYetStore } from '../../libs/sessions/src/infrastructure/cache/redis-yet-keyv-adapter';
import { createSessionCache } from '../../libs/sessions/src/infrastructure/cache/session-cache.factory';

// Compile-time: both node-redis majors fit the adapter's structural client type.
type Assert<T extends true> = T;
export type V4ClientFits = Assert<RedisStore['client'] extends RedisClient ? true : false>;
export type V5ClientFits = Assert<ReturnType<typeof createClient> extends RedisClient ? true : false>;

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// A fresh prefix per run: this Redis is shared, so we only ever touch keys under it.
const PREFIX = `session-cache-int:${randomUUID()}:`;
const NAMESPACE = `session-cache-int-${randomUUID()}`;

jest.setTimeout(30_000);

/** Inspects and cleans up our keys; never used for anything broader than exact keys. */
const raw = createClient({ url: REDIS_URL });
const writtenKeys = new Set<string>();

function keyOf(userId: string, sessionId: string): string {
  const key = sessionCacheKey(PREFIX, userId, sessionId);
  writtenKeys.add(key);
  return key;
}

function ids(count: number): string[] {
  return Array.from({ length: count }, () => randomUUID());
}

beforeAll(async () => {
  await raw.connect();
});

afterAll(async () => {
  const keys = [...writtenKeys];
  for (let start = 0; start < keys.length; start += 1_000) {
    await raw.del(keys.slice(start, start + 1_000));
  }
  raw.destroy();
});

describe.each<RedisCacheStoreKind>(['keyv-redis', 'redis-yet'])('RedisSessionCache over %s', (kind) => {
  let stores: RedisCacheStores;
  let cache: Cache;
  let sessions: SessionCache;

  beforeAll(async () => {
    stores = await createRedisCacheStores(kind, REDIS_URL, { namespace: NAMESPACE });
    cache = createCache({ stores: stores.stores });
    sessions = createSessionCache(cache, { keyPrefix: PREFIX, timeoutMs: 2_000 });
  });

  afterAll(async () => {
    await stores.close();
    await stores.close(); // idempotent
  });

  it('is recognised as Redis by the factory', () => {
    expect(sessions.description).toBe(kind === 'keyv-redis' ? 'redis (@keyv/redis)' : 'redis (cache-manager-redis-yet)');
  });

  it('answers PING', async () => {
    await expect(sessions.ping()).resolves.toBeUndefined();
  });

  it('returns null on a miss', async () => {
    const [userId, sessionId] = ids(2);
    keyOf(userId, sessionId);
    await expect(sessions.get(userId, sessionId)).resolves.toBeNull();
  });

  it('remembers an active session under the {userId} hash-tagged key with its TTL', async () => {
    const [userId, sessionId] = ids(2);
    const key = keyOf(userId, sessionId);
    await sessions.rememberActive(userId, sessionId, 60);
    await expect(sessions.get(userId, sessionId)).resolves.toBe('active');
    expect(key).toBe(`${PREFIX}{${userId}}:${sessionId}`);
    await expect(raw.get(key)).resolves.toBe('a');
    const ttl = await raw.ttl(key);
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('does nothing for a non-positive active TTL', async () => {
    const [userId, sessionId] = ids(2);
    keyOf(userId, sessionId);
    await sessions.rememberActive(userId, sessionId, 0);
    await sessions.rememberActive(userId, sessionId, -5);
    await expect(sessions.get(userId, sessionId)).resolves.toBeNull();
  });

  it('lets a revocation overwrite an active entry, and never lets a refill bring it back', async () => {
    const [userId, sessionId] = ids(2);
    const key = keyOf(userId, sessionId);
    await sessions.rememberActive(userId, sessionId, 60);
    await sessions.markRevoked(userId, [sessionId], 960);
    await expect(sessions.get(userId, sessionId)).resolves.toBe('revoked');
    await sessions.rememberActive(userId, sessionId, 60);
    await expect(sessions.get(userId, sessionId)).resolves.toBe('revoked');
    await expect(raw.get(key)).resolves.toBe('r');
    expect(await raw.ttl(key)).toBeGreaterThan(900);
  });

  it('rejects a non-positive revocation TTL instead of leaving an active entry behind', async () => {
    const [userId, sessionId] = ids(2);
    keyOf(userId, sessionId);
    await expect(sessions.markRevoked(userId, [sessionId], 0)).rejects.toThrow(RangeError);
  });

  it('lets entries expire: each is written with the TTL asked for, and gone once Redis expires it', async () => {
    const [userId, activeId, revokedId] = ids(3);
    const activeKey = keyOf(userId, activeId);
    const revokedKey = keyOf(userId, revokedId);
    await sessions.rememberActive(userId, activeId, 1);
    await sessions.markRevoked(userId, [revokedId], 1);
    for (const key of [activeKey, revokedKey]) {
      const ttl = await raw.pTTL(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(1_000);
    }
    // What Redis does when the second is up, without waiting it out.
    await expireRedisKeysNow(raw, [activeKey, revokedKey]);
    await expect(sessions.get(userId, activeId)).resolves.toBeNull();
    await expect(sessions.get(userId, revokedId)).resolves.toBeNull();
  });

  it('revokes 25,000 sessions in pipelines of at most 1,000', async () => {
    const userId = randomUUID();
    const sessionIds = ids(25_000);
    const keys = sessionIds.map((sessionId) => keyOf(userId, sessionId));
    await sessions.rememberActive(userId, sessionIds[12_345], 60);

    const client = redisClientOf(cache)!;
    const multi = jest.spyOn(client, 'multi');
    try {
      await sessions.markRevoked(userId, sessionIds, 960);
      expect(multi).toHaveBeenCalledTimes(25);
    } finally {
      multi.mockRestore();
    }

    await expect(raw.exists(keys)).resolves.toBe(25_000);
    for (const index of [0, 999, 1_000, 12_345, 24_999]) {
      await expect(sessions.get(userId, sessionIds[index])).resolves.toBe('revoked');
    }
  });

  it('still serves ordinary cache-manager reads and writes next to the session keys', async () => {
    const key = `plain-${randomUUID()}`;
    writtenKeys.add(kind === 'keyv-redis' ? `${NAMESPACE}::${key}` : `${NAMESPACE}:${key}`);
    await cache.set(key, { hello: 'world' }, 10_000);
    await expect(cache.get(key)).resolves.toEqual({ hello: 'world' });
    await expect(raw.exists(kind === 'keyv-redis' ? `${NAMESPACE}::${key}` : `${NAMESPACE}:${key}`)).resolves.toBe(1);
  });

  if (kind === 'redis-yet') {
    it('turns cache.clear() into an error instead of running FLUSHDB', async () => {
      const client = redisClientOf(cache) as unknown as { flushDb: () => Promise<string> };
      // Belt and braces: even if the guard failed, no FLUSHDB would reach the shared Redis.
      const flushDb = jest.spyOn(client, 'flushDb').mockResolvedValue('OK');
      // Keyv swallows a store's failure and emits it as an 'error' event instead.
      const errors: Error[] = [];
      const keyv = cache.stores[0];
      const onError = (error: Error) => errors.push(error);
      keyv.on('error', onError);
      try {
        await cache.clear();
        expect(flushDb).not.toHaveBeenCalled();
        expect(errors.map((error) => error.message)).toEqual([expect.stringMatching(/Refusing FLUSHDB/)]);
      } finally {
        keyv.off('error', onError);
        flushDb.mockRestore();
      }
    });
  }
});

describe('through @nestjs/cache-manager', () => {
  it.each<RedisCacheStoreKind>(['keyv-redis', 'redis-yet'])(
    'builds a Redis session cache from CACHE_MANAGER (%s) and closes the client with the module',
    async (kind) => {
      const stores = await createRedisCacheStores(kind, REDIS_URL, { namespace: NAMESPACE });
      const moduleRef = await Test.createTestingModule({
        imports: [CacheModule.registerAsync({ useFactory: () => ({ stores: stores.stores as never }) })],
      }).compile();
      await moduleRef.init();
      const cache = moduleRef.get<Cache>(CACHE_MANAGER);
      const sessions = createSessionCache(cache, { keyPrefix: PREFIX });
      expect(sessions.description).toContain('redis');

      const [userId, sessionId] = ids(2);
      keyOf(userId, sessionId);
      await sessions.rememberActive(userId, sessionId, 60);
      await expect(sessions.get(userId, sessionId)).resolves.toBe('active');

      const client = redisClientOf(cache) as unknown as { isOpen: boolean };
      await moduleRef.close();
      expect(client.isOpen).toBe(false);
      await stores.close();
    },
  );

  it('finds the client of a redis-yet store the host wrapped itself with keyvOfRedisYetStore', async () => {
    const store = await redisStore({ url: REDIS_URL });
    try {
      const cache = createCache({ stores: [keyvOfRedisYetStore(store, NAMESPACE)] });
      expect(redisClientOf(cache)).toBe(store.client);
      const sessions = createSessionCache(cache, { keyPrefix: PREFIX });
      expect(sessions).toBeInstanceOf(RedisSessionCache);
      expect(sessions.description).toBe('redis (cache-manager-redis-yet)');
      const [userId, sessionId] = ids(2);
      await sessions.markRevoked(userId, [sessionId], 60);
      await expect(raw.get(keyOf(userId, sessionId))).resolves.toBe('r');
    } finally {
      await store.client.quit();
    }
  });

  // cache-manager keeps the store of a plain KeyvAdapter in a private field: not read, so not Redis.
  it('does not reach into a plain KeyvAdapter, and says how to wrap the store instead', async () => {
    const store = await redisStore({ url: REDIS_URL });
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const cache = createCache({ stores: [new Keyv({ store: new KeyvAdapter(store), namespace: NAMESPACE })] });
      expect(redisClientOf(cache)).toBeUndefined();
      expect(createSessionCache(cache, { keyPrefix: PREFIX })).toBeInstanceOf(MemorySessionCache);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/plain KeyvAdapter.*keyvOfRedisYetStore/));
    } finally {
      warn.mockRestore();
      await store.client.quit();
    }
  });

  it('falls back to process memory with the default in-memory store', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [CacheModule.register()] }).compile();
    const sessions = createSessionCache(moduleRef.get<Cache>(CACHE_MANAGER), { keyPrefix: PREFIX });
    expect(sessions).toBeInstanceOf(MemorySessionCache);
    await moduleRef.close();
  });
});

describe('when Redis is unreachable', () => {
  it('rejects at once while nothing listens, instead of queueing commands', async () => {
    // Built lazily, the way an app might configure @keyv/redis itself.
    const adapter = new KeyvRedis<unknown>('redis://127.0.0.1:1');
    const sessions = createSessionCache(createCache({ stores: [new Keyv(adapter)] }), { keyPrefix: PREFIX });
    try {
      const started = Date.now();
      await expect(sessions.get('user', 'session')).rejects.toThrow(SessionCacheUnavailableError);
      await expect(sessions.ping()).rejects.toThrow(SessionCacheUnavailableError);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await adapter.disconnect(true);
    }
  });

  it.each<RedisCacheStoreKind>(['keyv-redis', 'redis-yet'])('fails startup promptly (%s)', async (kind) => {
    const started = Date.now();
    await expect(createRedisCacheStores(kind, 'redis://127.0.0.1:1', { namespace: NAMESPACE, connectTimeoutMs: 300 })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it.each<RedisCacheStoreKind>(['keyv-redis', 'redis-yet'])('times out on a connection that stops answering (%s)', async (kind) => {
    const proxy = await startFreezableProxy(new URL(REDIS_URL));
    const stores = await createRedisCacheStores(kind, `redis://127.0.0.1:${proxy.port}`, { namespace: NAMESPACE });
    try {
      const sessions = createSessionCache(createCache({ stores: stores.stores }), { keyPrefix: PREFIX, timeoutMs: 200 });
      const [userId, sessionId] = ids(2);
      keyOf(userId, sessionId);
      await sessions.rememberActive(userId, sessionId, 60);

      proxy.freeze();
      const started = Date.now();
      await expect(sessions.get(userId, sessionId)).rejects.toThrow(/within 200 ms/);
      await expect(sessions.markRevoked(userId, [sessionId], 960)).rejects.toThrow(SessionCacheUnavailableError);
      expect(Date.now() - started).toBeLessThan(2_000);

      // The late replies arrive in order, so the connection is usable again.
      proxy.thaw();
      await expect(sessions.get(userId, sessionId)).resolves.toBe('revoked');
    } finally {
      await stores.close();
      await proxy.close();
    }
  });

  it.each<RedisCacheStoreKind>(['keyv-redis', 'redis-yet'])('survives a dropped connection and refuses at once while reconnecting (%s)', async (kind) => {
    const proxy = await startFreezableProxy(new URL(REDIS_URL));
    const stores = await createRedisCacheStores(kind, `redis://127.0.0.1:${proxy.port}`, { namespace: NAMESPACE });
    try {
      const cache = createCache({ stores: stores.stores });
      const sessions = createSessionCache(cache, { keyPrefix: PREFIX, timeoutMs: 1_000 });
      await expect(sessions.ping()).resolves.toBeUndefined();

      // The client now emits 'error' on every reconnect attempt; unhandled, that would crash.
      await proxy.close();
      await expectEventually(() => expect((redisClientOf(cache) as unknown as { isReady: boolean }).isReady).toBe(false), { timeoutMs: 2_000, intervalMs: 10 });
      const started = Date.now();
      await expect(sessions.get('user', 'session')).rejects.toThrow(/not connected/);
      expect(Date.now() - started).toBeLessThan(100);
    } finally {
      await stores.close();
    }
  });
});

describe('MemorySessionCache', () => {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const clock = () => now;
  const newCache = (keyPrefix = PREFIX, extra: { sweepEvery?: number; maxEntries?: number } = {}) =>
    new MemorySessionCache({ keyPrefix, now: clock, ...extra });

  it('returns null on a miss and remembers active sessions', async () => {
    const cache = newCache();
    const [userId, sessionId] = ids(2);
    await expect(cache.get(userId, sessionId)).resolves.toBeNull();
    await cache.rememberActive(userId, sessionId, 60);
    await expect(cache.get(userId, sessionId)).resolves.toBe('active');
    await expect(cache.ping()).resolves.toBeUndefined();
  });

  it('ignores a non-positive active TTL', async () => {
    const cache = newCache();
    const [userId, sessionId] = ids(2);
    await cache.rememberActive(userId, sessionId, 0);
    await expect(cache.get(userId, sessionId)).resolves.toBeNull();
  });

  it('lets a revocation overwrite an active entry, and never lets a refill bring it back', async () => {
    const cache = newCache();
    const [userId, sessionId] = ids(2);
    await cache.rememberActive(userId, sessionId, 60);
    await cache.markRevoked(userId, [sessionId], 960);
    await expect(cache.get(userId, sessionId)).resolves.toBe('revoked');
    await cache.rememberActive(userId, sessionId, 60);
    await expect(cache.get(userId, sessionId)).resolves.toBe('revoked');
  });

  it('expires entries after their TTL', async () => {
    const cache = newCache();
    const [userId, activeId, revokedId] = ids(3);
    await cache.rememberActive(userId, activeId, 1);
    await cache.markRevoked(userId, [revokedId], 2);
    now += 1_000;
    await expect(cache.get(userId, activeId)).resolves.toBeNull();
    await expect(cache.get(userId, revokedId)).resolves.toBe('revoked');
    now += 1_000;
    await expect(cache.get(userId, revokedId)).resolves.toBeNull();
  });

  it('revokes 25,000 sessions', async () => {
    const cache = newCache();
    const userId = randomUUID();
    const sessionIds = ids(25_000);
    await cache.markRevoked(userId, sessionIds, 960);
    await expect(cache.get(userId, sessionIds[0])).resolves.toBe('revoked');
    await expect(cache.get(userId, sessionIds[24_999])).resolves.toBe('revoked');
  });

  it('shares entries between instances with the same prefix, and only those', async () => {
    const webApi = newCache();
    const adminConsole = newCache();
    const elsewhere = newCache(`${PREFIX}other:`);
    const [userId, sessionId] = ids(2);
    await webApi.rememberActive(userId, sessionId, 60);
    await adminConsole.markRevoked(userId, [sessionId], 960);
    await expect(webApi.get(userId, sessionId)).resolves.toBe('revoked');
    await expect(elsewhere.get(userId, sessionId)).resolves.toBeNull();
  });

  it('stays bounded: sweeps expired entries and stops adding active ones when full', async () => {
    const cache = newCache(`${PREFIX}bounded:`, { sweepEvery: 1, maxEntries: 2 });
    const [userId, a, b, c, d] = ids(5);
    await cache.rememberActive(userId, a, 1);
    await cache.rememberActive(userId, b, 60);
    await cache.rememberActive(userId, c, 60);
    await expect(cache.get(userId, c)).resolves.toBeNull(); // full
    await cache.markRevoked(userId, [d], 960);
    await expect(cache.get(userId, d)).resolves.toBe('revoked'); // markers are never dropped

    now += 1_000; // a expires; the next write sweeps it, but b and d still fill the cache
    await cache.rememberActive(userId, c, 60);
    await expect(cache.get(userId, c)).resolves.toBeNull();
    now += 60_000; // b expires too
    await cache.rememberActive(userId, c, 60);
    await expect(cache.get(userId, c)).resolves.toBe('active');
  });
});

/** A TCP proxy to Redis whose replies can be held back, to simulate a hung connection. */
async function startFreezableProxy(target: URL) {
  const upstreams = new Set<net.Socket>();
  const sockets = new Set<net.Socket>();
  let frozen = false;
  const server = net.createServer((downstream) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    upstreams.add(upstream);
    sockets.add(upstream).add(downstream);
    downstream.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => downstream.write(chunk));
    if (frozen) upstream.pause();
    const closeBoth = () => {
      upstream.destroy();
      downstream.destroy();
    };
    upstream.on('close', closeBoth).on('error', closeBoth);
    downstream.on('close', closeBoth).on('error', closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze() {
      frozen = true;
      upstreams.forEach((socket) => socket.pause());
    },
    thaw() {
      frozen = false;
      upstreams.forEach((socket) => socket.resume());
    },
    async close() {
      sockets.forEach((socket) => socket.destroy());
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
