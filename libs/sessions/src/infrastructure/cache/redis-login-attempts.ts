import { createHash } from 'node:crypto';
import { Clock } from '../../application/ports/clock.port';
import { FailedLogin, LoginAttemptKey, LoginAttempts, LoginGate, LoginLockoutPolicy } from '../../application/ports/login-attempts.port';
import { SESSIONS_DEFAULTS } from '../../sessions.options';
import { assertHashTagFreePrefix } from '../redis/key-prefix';
import type { RedisClient } from '../redis/redis-client';
import { callRedis } from '../redis/redis-call';
import { callRedisOr, FallbackLog } from '../redis/redis-fallback';
import { RedisScript } from '../redis/redis-script';

export interface RedisLoginAttemptsOptions {
  /** Put before every key; no braces, which would move the cluster hash tag. */
  readonly keyPrefix: string;
  readonly policy: LoginLockoutPolicy;
  readonly clock: Clock;
  /** Longest wait for Redis before the fallback answers instead. Default: SESSIONS_DEFAULTS.cacheTimeoutMs. */
  readonly timeoutMs?: number;
  /** Counts in this process while Redis cannot answer. */
  readonly fallback: LoginAttempts;
}

/**
 * Counts one failure unless this network is locked out of the email: per network (the failure
 * that reaches the threshold sets the lock and clears the count) and per email (from the
 * threshold on, each failure delays the next attempt 1 s, 2 s, 4 s ... up to the cap; the count
 * lives until the lock period passes without a failure).
 * KEYS: network failures, network lock, email hash {count, until}.
 * ARGV: lock ms, threshold, max delay ms, now ms.
 * Returns [failures, lock ms, engaged now 0/1, email failures, delayed until ms or 0].
 */
const RECORD_FAILURE = new RedisScript(`
if redis.call('PTTL', KEYS[2]) > 0 then
  return {0, 0, 0, 0, 0}
end
local lockMs = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
local failures = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], lockMs)
end
local emailFailures = redis.call('HINCRBY', KEYS[3], 'count', 1)
local delay = 0
local delayedUntil = 0
if emailFailures >= threshold then
  delay = math.min(tonumber(ARGV[3]), 1000 * math.pow(2, math.min(emailFailures - threshold, 30)))
  delayedUntil = math.floor(tonumber(ARGV[4]) + delay)
  redis.call('HSET', KEYS[3], 'until', string.format('%d', delayedUntil))
end
redis.call('PEXPIRE', KEYS[3], math.floor(math.max(lockMs, delay)))
if failures >= threshold then
  redis.call('SET', KEYS[2], '1', 'PX', lockMs)
  redis.call('DEL', KEYS[1])
  return {failures, lockMs, 1, emailFailures, delayedUntil}
end
return {failures, 0, 0, emailFailures, delayedUntil}
`);

/** [network lock ms left, email delayed until ms or 0]. */
const GATE = new RedisScript(`
return {redis.call('PTTL', KEYS[1]), tonumber(redis.call('HGET', KEYS[2], 'until') or '0')}
`);

export interface LoginAttemptRedisKeys {
  readonly failures: string;
  readonly locked: string;
  readonly email: string;
}

/**
 * `${prefix}lockout:{${sha256(email)}}:...`: one hash tag per email so a script's keys share a
 * Redis Cluster slot. The digests keep emails and addresses out of key names (and so out of
 * MONITOR output and key dumps); they are not meant as secrets.
 */
export function loginAttemptKeys(keyPrefix: string, key: LoginAttemptKey): LoginAttemptRedisKeys {
  const digest = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 32);
  const base = `${keyPrefix}lockout:{${digest(key.email)}}`;
  const network = `${base}:net:${digest(key.network)}`;
  return { failures: `${network}:failures`, locked: `${network}:locked`, email: `${base}:email` };
}

/**
 * Failed logins and account locks shared by every instance through Redis. While Redis cannot
 * answer, the fallback counts in this process, so a lockout still holds per instance and a
 * login never fails because Redis is down.
 */
export class RedisLoginAttempts implements LoginAttempts {
  private readonly keyPrefix: string;
  private readonly policy: LoginLockoutPolicy;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly fallback: LoginAttempts;
  private readonly log = new FallbackLog('RedisLoginAttempts', 'failed logins are counted per instance');

  constructor(
    private readonly client: RedisClient,
    options: RedisLoginAttemptsOptions,
  ) {
    assertHashTagFreePrefix(options.keyPrefix, 'login lockout');
    this.keyPrefix = options.keyPrefix;
    this.policy = options.policy;
    this.clock = options.clock;
    this.timeoutMs = options.timeoutMs ?? SESSIONS_DEFAULTS.cacheTimeoutMs;
    this.fallback = options.fallback;
  }

  gate(key: LoginAttemptKey): Promise<LoginGate> {
    const keys = loginAttemptKeys(this.keyPrefix, key);
    return this.withFallback(
      'login gate',
      async () => {
        const [lockMs, delayedUntil] = (await GATE.run(this.client, { keys: [keys.locked, keys.email], arguments: [] })) as [number, number];
        const now = this.clock.now().getTime();
        return {
          lockedUntil: lockMs > 0 ? new Date(now + lockMs) : null,
          delayedUntil: delayedUntil > now ? new Date(delayedUntil) : null,
        };
      },
      () => this.fallback.gate(key),
    );
  }

  recordFailure(key: LoginAttemptKey): Promise<FailedLogin> {
    const keys = loginAttemptKeys(this.keyPrefix, key);
    return this.withFallback(
      'failed login',
      async () => {
        const reply = await RECORD_FAILURE.run(this.client, {
          keys: [keys.failures, keys.locked, keys.email],
          arguments: [
            String(this.policy.lockSeconds * 1000),
            String(this.policy.threshold),
            String(this.policy.maxDelaySeconds * 1000),
            String(this.clock.now().getTime()),
          ],
        });
        const [failures, lockedForMs, engaged, emailFailures, delayedUntil] = reply as [number, number, number, number, number];
        return {
          failures,
          lockedUntil: engaged === 1 ? new Date(this.clock.now().getTime() + lockedForMs) : null,
          emailFailures,
          delayedUntil: delayedUntil > 0 ? new Date(delayedUntil) : null,
        };
      },
      () => this.fallback.recordFailure(key),
    );
  }

  async reset(key: LoginAttemptKey): Promise<void> {
    // Also forget what was counted here during an outage.
    await this.fallback.reset(key);
    const keys = loginAttemptKeys(this.keyPrefix, key);
    return this.withFallback(
      'DEL',
      async () => {
        await this.client.del([keys.failures, keys.locked]);
      },
      () => this.fallback.reset(key),
    );
  }

  async clear(email: string, networks: readonly string[]): Promise<void> {
    await this.fallback.clear(email, networks);
    const keys = networks.flatMap((network) => {
      const { failures, locked } = loginAttemptKeys(this.keyPrefix, { email, network });
      return [failures, locked];
    });
    keys.push(loginAttemptKeys(this.keyPrefix, { email, network: '' }).email);
    // No fallback: left in Redis, the lock would still refuse the network the admin was told is free.
    // One DEL: every key of the email shares its hash tag, so one slot.
    await callRedis(this.client, this.timeoutMs, 'unlock DEL', () => this.client.del(keys));
  }

  private withFallback<T>(what: string, command: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    return callRedisOr(this.client, this.timeoutMs, this.log, what, command, fallback);
  }
}
