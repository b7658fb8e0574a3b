import { Cache } from 'cache-manager';
import { Clock } from '../../application/ports/clock.port';
import { LoginAttempts, LoginLockoutPolicy } from '../../application/ports/login-attempts.port';
import { MemoryLoginAttempts } from './memory-login-attempts';
import { RedisLoginAttempts } from './redis-login-attempts';
import { redisClientOf } from './session-cache.factory';

export interface SharedStateOptions {
  /** The cache key prefix; rate limit and lockout keys go under it. */
  readonly keyPrefix: string;
  /** Longest wait for Redis before counting in this process instead. */
  readonly timeoutMs?: number;
}

/** Failed logins and locks on the app's Redis connection; in process memory without one. */
export function createLoginAttempts(cache: Cache, options: SharedStateOptions & { policy: LoginLockoutPolicy; clock: Clock }): LoginAttempts {
  const client = redisClientOf(cache);
  const memory = new MemoryLoginAttempts({ keyPrefix: options.keyPrefix, policy: options.policy, clock: options.clock });
  if (!client) return memory;
  return new RedisLoginAttempts(client, { ...options, fallback: memory });
}
