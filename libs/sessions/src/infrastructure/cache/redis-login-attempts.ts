import { createHash } from 'node:crypto';
import { Clock } from '../../application/ports/clock.port';
import { FailedLogin, LoginAttempts, LoginLockoutPolicy } from '../../application/ports/login-attempts.port';
import { callRedis, FallbackLog, RedisClient, RedisScript } from './redis-scripts';

export interface RedisLoginAttemptsOptions {
  /** Put before every key; no braces, which would move the cluster hash tag. */
  readonly keyPrefix: string;
  readonly policy: LoginLockoutPolicy;
  readonly clock: Clock;
  /** Longest wait for Redis before the fallback answers instead. Default 250 ms. */
  readonly timeoutMs?: number;
  /** Counts in this process while Redis cannot answer. */
  readonly fallback: LoginAttempts;
}

/**
 * Counts one failure unless the email is locked; the failure that reaches the threshold sets
 * the lock and clears the count. Returns [failures, lock ms, engaged now 0/1].
 */
const RECORD_FAILURE = new RedisScript(`
if redis.call('PTTL', KEYS[2]) > 0 then
  return {0, 0, 0}
end
local failures = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
if failures >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
  redis.call('DEL', KEYS[1])
  return {failures, tonumber(ARGV[1]), 1}
end
return {failures, 0, 0}
`);

/**
 * `${prefix}lockout:{${sha256(email)}}:failures` and `...:locked`: one hash tag per account so
 * the script's two keys share a Redis Cluster slot. The digest keeps emails out of key names
 * (and so out of MONITOR output and key dumps); it is not meant as a secret.
 */
export function loginAttemptKeys(keyPrefix: string, email: string): [failures: string, locked: string] {
  const base = `${keyPrefix}lockout:{${createHash('sha256').update(email).digest('hex').slice(0, 32)}}`;
  return [`${base}:failures`, `${base}:locked`];
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
    if (/[{}]/.test(options.keyPrefix)) {
      throw new Error('The login lockout key prefix must not contain "{" or "}" (Redis Cluster hash tags)');
    }
    this.keyPrefix = options.keyPrefix;
    this.policy = options.policy;
    this.clock = options.clock;
    this.timeoutMs = options.timeoutMs ?? 250;
    this.fallback = options.fallback;
  }

  lockedUntil(email: string): Promise<Date | null> {
    const [, locked] = loginAttemptKeys(this.keyPrefix, email);
    return this.withFallback(
      'PTTL',
      async () => {
        const ms = await this.client.pTTL(locked);
        return ms > 0 ? new Date(this.clock.now().getTime() + ms) : null;
      },
      () => this.fallback.lockedUntil(email),
    );
  }

  recordFailure(email: string): Promise<FailedLogin> {
    const lockMs = this.policy.lockSeconds * 1000;
    return this.withFallback(
      'failed login',
      async () => {
        const reply = await RECORD_FAILURE.run(this.client, {
          keys: loginAttemptKeys(this.keyPrefix, email),
          arguments: [String(lockMs), String(this.policy.threshold)],
        });
        const [failures, lockedForMs, engaged] = reply as [number, number, number];
        return { failures, lockedUntil: engaged === 1 ? new Date(this.clock.now().getTime() + lockedForMs) : null };
      },
      () => this.fallback.recordFailure(email),
    );
  }

  async reset(email: string): Promise<void> {
    // Also forget what was counted here during an outage.
    await this.fallback.reset(email);
    return this.withFallback(
      'DEL',
      async () => {
        await this.client.del(loginAttemptKeys(this.keyPrefix, email));
      },
      () => this.fallback.reset(email),
    );
  }

  private async withFallback<T>(what: string, command: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await callRedis(this.client, this.timeoutMs, what, command);
    } catch (error) {
      this.log.fellBack(error);
      return fallback();
    }
    this.log.recovered();
    return result;
  }
}
