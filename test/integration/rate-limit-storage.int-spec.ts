import { randomUUID } from 'node:crypto';
import KeyvRedis, { createClient } from '@keyv/redis';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { Cache, createCache } from 'cache-manager';
import type { RedisStore } from 'cache-manager-redis-yet';
import { Keyv } from 'keyv';
import { Clock } from '../../libs/sessions/src/application/ports/clock.port';
import { MemoryLoginAttempts } from '../../libs/sessions/src/infrastructure/cache/memory-login-attempts';
import { createLoginAttempts, createThrottlerStorage } from '../../libs/sessions/src/infrastructure/cache/rate-limit.factory';
import { loginAttemptKeys, RedisLoginAttempts } from '../../libs/sessions/src/infrastructure/cache/redis-login-attempts';
import { RedisClient } from '../../libs/sessions/src/infrastructure/cache/redis-scripts';
import { RedisThrottlerStorage, throttlerKeys } from '../../libs/sessions/src/infrastructure/cache/redis-throttler-storage';
import { createRedisCacheStores, RedisCacheStoreKind, RedisCacheStores, redisClientOf } from '../../libs/sessions/src/infrastructure/cache/session-cache.factory';
import { deleteRedisKeys, testRedisPrefix } from '../support/test-database';

// Compile-time: both node-redis majors fit the structural client the adapters use.
type Assert<T extends true> = T;
export type V4ClientFits = Assert<RedisStore['client'] extends RedisClient ? true : false>;
export type V5ClientFits = Assert<ReturnType<typeof createClient> extends RedisClient ? true : false>;

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = testRedisPrefix('rate-limit-int');
const systemClock: Clock = { now: () => new Date() };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

jest.setTimeout(30_000);

const raw = createClient({ url: REDIS_URL });

beforeAll(async () => {
  await raw.connect();
});

afterAll(async () => {
  raw.destroy();
  await deleteRedisKeys(REDIS_URL, PREFIX);
});

describe.each<RedisCacheStoreKind>(['keyv-redis', 'redis-yet'])('over %s', (kind) => {
  let stores: RedisCacheStores;
  let cache: Cache;
  const prefix = `${PREFIX}${kind}:`;

  beforeAll(async () => {
    stores = await createRedisCacheStores(kind, REDIS_URL, { namespace: `${prefix}cache` });
    cache = createCache({ stores: stores.stores });
  });

  afterAll(async () => {
    await stores.close();
  });

  describe('RedisThrottlerStorage', () => {
    const storage = () => createThrottlerStorage(cache, { keyPrefix: prefix, timeoutMs: 2_000 });

    it('is built on the cache store’s own client', () => {
      expect(storage()).toBeInstanceOf(RedisThrottlerStorage);
      expect(redisClientOf(cache)).toBeDefined();
    });

    it('counts hits in a window, then blocks the key with a Retry-After in seconds', async () => {
      const throttler = storage();
      const key = randomUUID();
      const records = [];
      for (let i = 0; i < 4; i += 1) records.push(await throttler.increment(key, 60_000, 3, 30_000, 'ip'));
      expect(records.map((r) => [r.totalHits, r.isBlocked])).toEqual([
        [1, false],
        [2, false],
        [3, false],
        [4, true],
      ]);
      expect(records[0].timeToExpire).toBe(60);
      expect(records[3].timeToBlockExpire).toBe(30);

      // While blocked, hits are refused without being counted.
      const again = await throttler.increment(key, 60_000, 3, 30_000, 'ip');
      expect(again).toMatchObject({ totalHits: 4, isBlocked: true });
      expect(again.timeToBlockExpire).toBeGreaterThan(28);

      const [hits, blocked] = throttlerKeys(prefix, key);
      expect(hits).toBe(`${prefix}throttle:{${key}}`);
      expect(blocked).toBe(`${prefix}throttle:{${key}}:blocked`);
      await expect(raw.get(hits)).resolves.toBe('4');
      expect(await raw.pTTL(hits)).toBeGreaterThan(59_000);
      expect(await raw.pTTL(blocked)).toBeGreaterThan(29_000);
    });

    it('opens a fresh window once the block and the window are over', async () => {
      const throttler = storage();
      const key = randomUUID();
      await throttler.increment(key, 500, 1, 500, 'ip');
      await expect(throttler.increment(key, 500, 1, 500, 'ip')).resolves.toMatchObject({ isBlocked: true, timeToBlockExpire: 1 });
      await sleep(600);
      await expect(throttler.increment(key, 500, 1, 500, 'ip')).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
    });

    it('without a block duration, refuses until the window ends', async () => {
      const throttler = storage();
      const key = randomUUID();
      await throttler.increment(key, 60_000, 1, 0, 'ip');
      const refused = await throttler.increment(key, 60_000, 1, 0, 'ip');
      expect(refused).toMatchObject({ totalHits: 2, isBlocked: true });
      expect(refused.timeToBlockExpire).toBe(60);
      await expect(raw.exists(throttlerKeys(prefix, key)[1])).resolves.toBe(0);
    });

    it('counts concurrent hits from several instances exactly (one script per hit)', async () => {
      const other = await createRedisCacheStores(kind, REDIS_URL, { namespace: `${prefix}cache` });
      try {
        const instances = [storage(), createThrottlerStorage(createCache({ stores: other.stores }), { keyPrefix: prefix, timeoutMs: 2_000 })];
        const key = randomUUID();
        const records = await Promise.all(Array.from({ length: 60 }, (_, i) => instances[i % 2].increment(key, 60_000, 10, 60_000, 'account')));
        expect(records.filter((r) => !r.isBlocked)).toHaveLength(10);
        expect(records.map((r) => r.totalHits).filter((hits) => hits <= 10).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      } finally {
        await other.close();
      }
    });

    it('sends the script in full when Redis does not know it (after a restart or SCRIPT FLUSH)', async () => {
      const client = redisClientOf(cache)!;
      const evalSha = jest.spyOn(client, 'evalSha').mockRejectedValueOnce(new Error('NOSCRIPT No matching script. Please use EVAL.'));
      const evalFull = jest.spyOn(client, 'eval');
      try {
        await expect(storage().increment(randomUUID(), 60_000, 5, 60_000, 'ip')).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
        expect(evalSha).toHaveBeenCalledTimes(1);
        expect(evalFull).toHaveBeenCalledTimes(1);
      } finally {
        evalSha.mockRestore();
        evalFull.mockRestore();
      }
    });

    it('counts in this process when Redis answers with an error, and goes back to Redis after', async () => {
      const client = redisClientOf(cache)!;
      const throttler = storage() as RedisThrottlerStorage;
      const key = randomUUID();
      const evalSha = jest.spyOn(client, 'evalSha').mockRejectedValue(new Error('READONLY You can\'t write against a read only replica.'));
      try {
        const records = [];
        for (let i = 0; i < 3; i += 1) records.push(await throttler.increment(key, 60_000, 2, 60_000, 'ip'));
        expect(records.map((r) => r.isBlocked)).toEqual([false, false, true]);
        expect(throttler.degraded).toBe(true);
      } finally {
        evalSha.mockRestore();
      }
      await expect(throttler.increment(key, 60_000, 2, 60_000, 'ip')).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
      expect(throttler.degraded).toBe(false);
    });
  });

  describe('RedisLoginAttempts', () => {
    const policy = { threshold: 3, lockSeconds: 60 };
    const attempts = () => createLoginAttempts(cache, { keyPrefix: prefix, timeoutMs: 2_000, policy, clock: systemClock });

    it('locks an email at the threshold, once, under hashed keys that share a hash tag', async () => {
      const lockout = attempts();
      expect(lockout).toBeInstanceOf(RedisLoginAttempts);
      const email = `${randomUUID()}@example.com`;
      await expect(lockout.lockedUntil(email)).resolves.toBeNull();
      await expect(lockout.recordFailure(email)).resolves.toEqual({ failures: 1, lockedUntil: null });
      await expect(lockout.recordFailure(email)).resolves.toEqual({ failures: 2, lockedUntil: null });
      const started = Date.now();
      const engaged = await lockout.recordFailure(email);
      expect(engaged.failures).toBe(3);
      expect(engaged.lockedUntil!.getTime()).toBeGreaterThanOrEqual(started + 59_000);
      expect(engaged.lockedUntil!.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);

      // While locked: failures are neither counted nor extend the lock.
      await expect(lockout.recordFailure(email)).resolves.toEqual({ failures: 0, lockedUntil: null });
      const until = await lockout.lockedUntil(email);
      expect(Math.abs(until!.getTime() - engaged.lockedUntil!.getTime())).toBeLessThan(1_000);

      const [failures, locked] = loginAttemptKeys(prefix, email);
      expect(failures).toMatch(new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}lockout:\\{[0-9a-f]{32}\\}:failures$`));
      expect(locked).toBe(failures.replace(/:failures$/, ':locked'));
      expect(failures).not.toContain(email);
      await expect(raw.exists(locked)).resolves.toBe(1);
    });

    it('is shared by every instance, and engages exactly once under concurrent failures', async () => {
      const email = `${randomUUID()}@example.com`;
      const instances = [attempts(), attempts()];
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => instances[i % 2].recordFailure(email)));
      expect(results.filter((r) => r.lockedUntil !== null)).toHaveLength(1);
      await expect(instances[1].lockedUntil(email)).resolves.not.toBeNull();
    });

    it('forgets failures and the lock on reset', async () => {
      const lockout = attempts();
      const email = `${randomUUID()}@example.com`;
      await lockout.recordFailure(email);
      await lockout.recordFailure(email);
      await lockout.reset(email);
      await expect(lockout.recordFailure(email)).resolves.toEqual({ failures: 1, lockedUntil: null });
      await expect(raw.exists(loginAttemptKeys(prefix, email)[0])).resolves.toBe(1);
    });
  });
});

describe('when Redis cannot be reached', () => {
  let adapter: KeyvRedis<unknown>;
  let cache: Cache;

  beforeAll(() => {
    // Nothing listens on port 1: the client is never ready.
    adapter = new KeyvRedis<unknown>('redis://127.0.0.1:1');
    cache = createCache({ stores: [new Keyv(adapter)] });
  });

  afterAll(async () => {
    await adapter.disconnect(true);
  });

  it('the rate limiter counts in this process at once, instead of failing or waiting', async () => {
    const throttler = createThrottlerStorage(cache, { keyPrefix: PREFIX, timeoutMs: 5_000 }) as RedisThrottlerStorage;
    const started = Date.now();
    const records = [];
    for (let i = 0; i < 4; i += 1) records.push(await throttler.increment('k', 60_000, 3, 60_000, 'ip'));
    expect(records.map((r) => r.isBlocked)).toEqual([false, false, false, true]);
    expect(records[3].timeToBlockExpire).toBeGreaterThan(0);
    expect(throttler.degraded).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('the login lockout counts in this process too', async () => {
    const lockout = createLoginAttempts(cache, { keyPrefix: PREFIX, timeoutMs: 5_000, policy: { threshold: 2, lockSeconds: 60 }, clock: systemClock });
    await lockout.recordFailure('down@example.com');
    await expect(lockout.recordFailure('down@example.com')).resolves.toMatchObject({ failures: 2, lockedUntil: expect.any(Date) });
    await expect(lockout.lockedUntil('down@example.com')).resolves.toEqual(expect.any(Date));
  });
});

describe('without a Redis store (embedded mode)', () => {
  it('uses @nestjs/throttler’s in-memory storage and an in-memory lockout', () => {
    const cache = createCache();
    expect(createThrottlerStorage(cache, { keyPrefix: PREFIX })).toBeInstanceOf(ThrottlerStorageService);
    expect(createLoginAttempts(cache, { keyPrefix: PREFIX, policy: { threshold: 1, lockSeconds: 1 }, clock: systemClock })).toBeInstanceOf(MemoryLoginAttempts);
  });
});
