import { OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { callRedis, FallbackLog, RedisClient, RedisScript, secondsFromMs } from './redis-scripts';
import { SESSIONS_DEFAULTS } from '../../sessions.options';

/** What ThrottlerStorage.increment answers (the library's ThrottlerStorageRecord). */
export type ThrottlerRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

export interface RedisThrottlerStorageOptions {
  /** Put before every key; no braces, which would move the cluster hash tag. */
  readonly keyPrefix: string;
  /** Longest wait for Redis before the fallback answers instead. Default: SESSIONS_DEFAULTS.cacheTimeoutMs. */
  readonly timeoutMs?: number;
  /** Counts in this process while Redis cannot answer. */
  readonly fallback: ThrottlerStorage;
}

/**
 * A fixed window per key: the first hit starts a window of `ttl` ms; a hit past `limit` in it
 * blocks the key for `blockDuration` ms (counted from that hit), during which hits are refused
 * without being counted. Without a block duration, hits are refused until the window ends.
 * Returns [hits, window ms left, blocked 0/1, block ms left].
 */
const INCREMENT = new RedisScript(`
local blockLeft = redis.call('PTTL', KEYS[2])
if blockLeft > 0 then
  local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
  local windowLeft = redis.call('PTTL', KEYS[1])
  if windowLeft < 0 then windowLeft = 0 end
  return {hits, windowLeft, 1, blockLeft}
end
local hits = redis.call('INCR', KEYS[1])
local windowLeft = redis.call('PTTL', KEYS[1])
if windowLeft < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  windowLeft = tonumber(ARGV[1])
end
if hits > tonumber(ARGV[2]) then
  local block = tonumber(ARGV[3])
  if block > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', block)
    return {hits, windowLeft, 1, block}
  end
  return {hits, windowLeft, 1, windowLeft}
end
return {hits, windowLeft, 0, 0}
`);

/**
 * `${prefix}throttle:{${key}}` and its `:blocked` companion. The `{key}` hash tag puts both in
 * one Redis Cluster slot, so the script's two keys never span slots, while different keys
 * spread over the cluster. The throttler's keys are SHA-256 digests, so no email or address
 * appears in Redis.
 */
export function throttlerKeys(keyPrefix: string, key: string): [hits: string, blocked: string] {
  const base = `${keyPrefix}throttle:{${key}}`;
  return [base, `${base}:blocked`];
}

/**
 * @nestjs/throttler storage shared by every instance through Redis: one Lua script per hit,
 * so concurrent hits on several instances are counted exactly.
 *
 * When Redis cannot answer (disconnected, too slow, an error reply) the hit is counted by the
 * fallback in this process instead: rate limiting degrades to per instance, it never turns a
 * request into an error (fail-open to a local limit, see README "Reliability and security").
 */
export class RedisThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly keyPrefix: string;
  private readonly timeoutMs: number;
  private readonly fallback: ThrottlerStorage;
  private readonly log = new FallbackLog('RedisThrottlerStorage', 'rate limits are counted per instance');

  constructor(
    private readonly client: RedisClient,
    options: RedisThrottlerStorageOptions,
  ) {
    if (/[{}]/.test(options.keyPrefix)) {
      throw new Error('The rate limit key prefix must not contain "{" or "}" (Redis Cluster hash tags)');
    }
    this.keyPrefix = options.keyPrefix;
    this.timeoutMs = options.timeoutMs ?? SESSIONS_DEFAULTS.cacheTimeoutMs;
    this.fallback = options.fallback;
  }

  /** True while the fallback counts instead of Redis. */
  get degraded(): boolean {
    return this.log.isDegraded;
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerRecord> {
    let reply: unknown;
    try {
      reply = await callRedis(this.client, this.timeoutMs, 'rate limit', () =>
        INCREMENT.run(this.client, {
          keys: throttlerKeys(this.keyPrefix, key),
          arguments: [String(Math.max(1, Math.ceil(ttl))), String(limit), String(Math.max(0, Math.ceil(blockDuration)))],
        }),
      );
    } catch (error) {
      this.log.fellBack(error);
      return this.fallback.increment(key, ttl, limit, blockDuration, throttlerName);
    }
    this.log.recovered();
    const [totalHits, windowLeftMs, blocked, blockLeftMs] = reply as [number, number, number, number];
    return {
      totalHits,
      timeToExpire: secondsFromMs(windowLeftMs),
      isBlocked: blocked === 1,
      timeToBlockExpire: secondsFromMs(blockLeftMs),
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await (this.fallback as Partial<OnApplicationShutdown>).onApplicationShutdown?.();
  }
}
