import { randomUUID } from 'node:crypto';
import KeyvRedis, { createClient } from '@keyv/redis';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { Cache, createCache } from 'cache-manager';
import type { RedisStore } from 'cache-manager-redis-yet';
import { Keyv } from 'keyv';
import { Clock } from '../../libs/sessions/src/application/ports/clock.port';
import { MemoryLoginAttempts } from '../../libs/sessions/src/infrastructure/cache/memory-login-attempts';
import { createThrottlerStorage } from '@app/sessions/throttler';
import { createLoginAttempts } from '../../libs/sessions/src/infrastructure/cache/rate-limit.factory';
import { loginAttemptKeys, RedisLoginAttempts } from '../../libs/sessions/src/infrastructure/cache/redis-login-attempts';
import { RedisClient } from '../../libs/sessions/src/infrastructure/redis/redis-client';
import { RedisThrottlerStorage, throttlerKeys } from '../../libs/sessions/src/infrastructure/cache/redis-throttler-storage';
import { type CacheStoreKind as RedisCacheStoreKind, createRedisCacheStores, type RedisCacheStores } from '@app/runtime';
import { redisClientOf } from '../../libs/sessions/src/infrastructure/cache/cache-store-redis';
import { deleteRedisKeys, expireRedisKeysNow, testRedisPrefix } from '../support/test-database';

// Compile-time: both node-redis majors fit the structural client the adapters use.
type Assert<T extends true> = T;
export type V4ClientFits = Assert<RedisStore['client'] extends RedisClient ? true : false>;
export type V5ClientFits = Assert<ReturnType<typeof createClient> extends RedisClient ? true : false>;

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = testRedisPrefix('rate-limit-int');
const systemClock: Clock = { now: () => new Date() };

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
      // The window and the block end as Redis ends them (their keys expire), without waiting them out.
      await expireRedisKeysNow(raw, throttlerKeys(prefix, key));
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
        expect(
          records
            .map((r) => r.totalHits)
            .filter((hits) => hits <= 10)
            .sort((a, b) => a - b),
        ).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
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
      const evalSha = jest.spyOn(client, 'evalSha').mockRejectedValue(new Error("READONLY You can't write against a read only replica."));
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
    const policy = { threshold: 3, lockSeconds: 60, maxDelaySeconds: 4 };
    const attempts = (clock: Clock = systemClock) => createLoginAttempts(cache, { keyPrefix: prefix, timeoutMs: 2_000, policy, clock });
    const keyOf = (email: string, network = '203.0.113.9') => ({ email, network });
    const noDelay = { emailFailures: expect.any(Number), delayedUntil: null };

    it('locks an (email, network) at the threshold, once, under hashed keys that share a hash tag', async () => {
      const lockout = attempts();
      expect(lockout).toBeInstanceOf(RedisLoginAttempts);
      const key = keyOf(`${randomUUID()}@example.com`);
      await expect(lockout.gate(key)).resolves.toEqual({ lockedUntil: null, delayedUntil: null });
      await expect(lockout.recordFailure(key)).resolves.toEqual({ failures: 1, lockedUntil: null, ...noDelay });
      await expect(lockout.recordFailure(key)).resolves.toEqual({ failures: 2, lockedUntil: null, ...noDelay });
      const started = Date.now();
      const engaged = await lockout.recordFailure(key);
      expect(engaged.failures).toBe(3);
      expect(engaged.lockedUntil!.getTime()).toBeGreaterThanOrEqual(started + 59_000);
      expect(engaged.lockedUntil!.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);

      // While locked: failures are neither counted nor extend the lock.
      await expect(lockout.recordFailure(key)).resolves.toEqual({ failures: 0, lockedUntil: null, emailFailures: 0, delayedUntil: null });
      const until = (await lockout.gate(key)).lockedUntil;
      expect(Math.abs(until!.getTime() - engaged.lockedUntil!.getTime())).toBeLessThan(1_000);
      // Another network is not locked.
      await expect(lockout.gate(keyOf(key.email, '198.51.100.1'))).resolves.toMatchObject({ lockedUntil: null });

      const keys = loginAttemptKeys(prefix, key);
      const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      expect(keys.failures).toMatch(new RegExp(`^${escaped}lockout:\\{[0-9a-f]{32}\\}:net:[0-9a-f]{32}:failures$`));
      expect(keys.locked).toBe(keys.failures.replace(/:failures$/, ':locked'));
      expect(keys.email).toMatch(new RegExp(`^${escaped}lockout:\\{[0-9a-f]{32}\\}:email$`));
      expect(JSON.stringify(keys)).not.toContain(key.email);
      expect(JSON.stringify(keys)).not.toContain(key.network);
      await expect(raw.exists(keys.locked)).resolves.toBe(1);
    });

    it('delays an email progressively (1 s, 2 s, 4 s, then the cap) after failures from many networks, on the injected clock', async () => {
      const clock = {
        current: Date.now(),
        now() {
          return new Date(this.current);
        },
      };
      const lockout = attempts(clock);
      const email = `${randomUUID()}@example.com`;
      const delays: Array<number | null> = [];
      for (let i = 0; i < 6; i += 1) {
        const failure = await lockout.recordFailure(keyOf(email, `192.0.2.${i}`));
        expect(failure.emailFailures).toBe(i + 1);
        delays.push(failure.delayedUntil ? failure.delayedUntil.getTime() - clock.current : null);
        const gate = await lockout.gate(keyOf(email, '198.51.100.200'));
        expect(gate.lockedUntil).toBeNull();
        expect(gate.delayedUntil?.getTime() ?? null).toBe(failure.delayedUntil?.getTime() ?? null);
        if (failure.delayedUntil) clock.current = failure.delayedUntil.getTime();
      }
      expect(delays).toEqual([null, null, 1_000, 2_000, 4_000, 4_000]);
      await expect(lockout.gate(keyOf(email, '198.51.100.200'))).resolves.toEqual({ lockedUntil: null, delayedUntil: null });
    });

    it('is shared by every instance, and engages exactly once under concurrent failures', async () => {
      const key = keyOf(`${randomUUID()}@example.com`);
      const instances = [attempts(), attempts()];
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => instances[i % 2].recordFailure(key)));
      expect(results.filter((r) => r.lockedUntil !== null)).toHaveLength(1);
      await expect(instances[1].gate(key)).resolves.toMatchObject({ lockedUntil: expect.any(Date) });
    });

    it("forgets the network's failures and lock on reset, not the email-wide count", async () => {
      const lockout = attempts();
      const key = keyOf(`${randomUUID()}@example.com`);
      await lockout.recordFailure(key);
      await lockout.recordFailure(key);
      await lockout.reset(key);
      await expect(lockout.recordFailure(key)).resolves.toMatchObject({ failures: 1, lockedUntil: null, emailFailures: 3 });
      await expect(raw.exists(loginAttemptKeys(prefix, key).failures)).resolves.toBe(1);
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
    const policy = { threshold: 2, lockSeconds: 60, maxDelaySeconds: 60 };
    const lockout = createLoginAttempts(cache, { keyPrefix: PREFIX, timeoutMs: 5_000, policy, clock: systemClock });
    const key = { email: 'down@example.com', network: '203.0.113.9' };
    await lockout.recordFailure(key);
    await expect(lockout.recordFailure(key)).resolves.toMatchObject({ failures: 2, lockedUntil: expect.any(Date), delayedUntil: expect.any(Date) });
    await expect(lockout.gate(key)).resolves.toEqual({ lockedUntil: expect.any(Date), delayedUntil: expect.any(Date) });
  });
});

describe('without a Redis store (embedded mode)', () => {
  it('uses @nestjs/throttler’s in-memory storage and an in-memory lockout', () => {
    const cache = createCache();
    expect(createThrottlerStorage(cache, { keyPrefix: PREFIX })).toBeInstanceOf(ThrottlerStorageService);
    expect(createLoginAttempts(cache, { keyPrefix: PREFIX, policy: { threshold: 1, lockSeconds: 1, maxDelaySeconds: 1 }, clock: systemClock })).toBeInstanceOf(
      MemoryLoginAttempts,
    );
  });
});
