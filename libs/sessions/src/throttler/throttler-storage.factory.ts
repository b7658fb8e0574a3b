import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import { Cache } from 'cache-manager';
import type { SharedStateOptions } from '../infrastructure/cache/rate-limit.factory';
import { RedisThrottlerStorage } from '../infrastructure/cache/redis-throttler-storage';
import { redisClientOf } from '../infrastructure/cache/session-cache.factory';

export type ThrottlerStorageOptions = SharedStateOptions;

/**
 * Storage for @nestjs/throttler on the app's own Redis connection (the one its cache store
 * holds), shared by every instance; without a Redis store, @nestjs/throttler's in-memory storage.
 * In its own entry: @nestjs/throttler is an optional peer, which the main entry never loads.
 */
export function createThrottlerStorage(cache: Cache, options: ThrottlerStorageOptions): ThrottlerStorage {
  const client = redisClientOf(cache);
  const memory = new ThrottlerStorageService();
  if (!client) return memory;
  return new RedisThrottlerStorage(client, { keyPrefix: options.keyPrefix, timeoutMs: options.timeoutMs, fallback: memory });
}
