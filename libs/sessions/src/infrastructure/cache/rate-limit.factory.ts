import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import { Cache } from 'cache-manager';
import { Clock } from '../../application/ports/clock.port';
import { LoginAttempts, LoginLockoutPolicy } from '../../application/ports/login-attempts.port';
import { MemoryLoginAttempts } from './memory-login-attempts';
import { RedisLoginAttempts } from './redis-login-attempts';
import { RedisThrottlerStorage } from './redis-throttler-storage';
import { redisClientOf } from './cache-store-redis';

export interface SharedStateOptions {
  /** The cache key prefix; rate limit and lockout keys go under it. */
  readonly keyPrefix: string;
  /** Longest wait for Redis before counting in this process instead. */
  readonly timeoutMs?: number;
}

/**
 * Storage for @nestjs/throttler on the app's own Redis connection (the one its cache store
 * holds), shared by every instance; without a Redis store, @nestjs/throttler's in-memory storage.
 */
export function createThrottlerStorage(cache: Cache, options: SharedStateOptions): ThrottlerStorage {
  const client = redisClientOf(cache);
  const memory = new ThrottlerStorageService();
  if (!client) return memory;
  return new RedisThrottlerStorage(client, { keyPrefix: options.keyPrefix, timeoutMs: options.timeoutMs, fallback: memory });
}

/** Failed logins and locks on the app's Redis connection; in process memory without one. */
export function createLoginAttempts(cache: Cache, options: SharedStateOptions & { policy: LoginLockoutPolicy; clock: Clock }): LoginAttempts {
  const client = redisClientOf(cache);
  const memory = new MemoryLoginAttempts({ keyPrefix: options.keyPrefix, policy: options.policy, clock: options.clock });
  if (!client) return memory;
  return new RedisLoginAttempts(client, { ...options, fallback: memory });
}
