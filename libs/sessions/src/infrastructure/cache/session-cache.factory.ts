import { Logger } from '@nestjs/common';
import { Cache, KeyvAdapter } from 'cache-manager';
import { SessionCache } from '../../application/ports/session-cache.port';
import { findCacheStoreRedis } from './cache-store-redis';
import { MemorySessionCache } from './memory-session-cache';
import { RedisSessionCache } from './redis-session-cache';

export interface SessionCacheFactoryOptions {
  readonly keyPrefix: string;
  /** Per-call timeout of the Redis adapter. */
  readonly timeoutMs?: number;
}

const logger = new Logger('SessionCacheFactory');

/**
 * Builds the session cache on top of the cache store the app gave @nestjs/cache-manager, so
 * sessions reuse its Redis connection instead of opening a second one. Without a Redis store
 * the cache lives in process memory (embedded and dev mode).
 */
export function createSessionCache(cache: Cache, options: SessionCacheFactoryOptions): SessionCache {
  const redis = findCacheStoreRedis(cache);
  if (redis) {
    return new RedisSessionCache(redis.client, {
      keyPrefix: options.keyPrefix,
      timeoutMs: options.timeoutMs,
      description: `${redis.cluster ? 'redis cluster' : 'redis'} (${redis.source})`,
      location: redis.location,
    });
  }
  const store: unknown = cache.stores[0]?.store;
  if (store instanceof KeyvAdapter) {
    logger.warn(
      'Cache store is a cache-manager 5 store in a plain KeyvAdapter, which hides its client; the session cache stays in process memory. ' +
        'Wrap a cache-manager-redis-yet store with keyvOfRedisYetStore instead',
    );
  } else if (store != null && !(store instanceof Map)) {
    // Another shared store (Memcached, Valkey module, ...) is not supported: revocations made
    // on one instance will not reach the others.
    logger.warn(`Cache store ${store.constructor?.name ?? typeof store} is not Redis; the session cache stays in process memory`);
  }
  return new MemorySessionCache({ keyPrefix: options.keyPrefix });
}
