import KeyvRedis from '@keyv/redis';
import { Keyv } from 'keyv';
import { closeRedis, connectRedis } from '../redis/redis-connection';
import { createRedisYetStores } from './redis-yet-stores';

export type RedisCacheStoreKind = 'keyv-redis' | 'redis-yet';

export interface RedisCacheStoreOptions {
  /** Keyv namespace for whatever else the app caches; the session cache uses its own keys. */
  readonly namespace: string;
  /** How long startup may wait for the first connection. Default 5,000 ms. */
  readonly connectTimeoutMs?: number;
}

export interface RedisCacheStores {
  /** For `CacheModule.registerAsync({ useFactory: () => ({ stores }) })`. */
  readonly stores: Keyv[];
  /** Disconnects the Redis client. Idempotent; call it on shutdown. */
  close(): Promise<void>;
}

/**
 * Connects to Redis and wraps the connection in the Keyv store @nestjs/cache-manager expects; the
 * session cache and rate limiter then find the client in it (see findCacheStoreRedis). Startup fails
 * if Redis cannot be reached within connectTimeoutMs; afterwards the client reconnects on its own
 * and the session cache reports "unavailable" in the meantime.
 */
export async function createRedisCacheStores(kind: RedisCacheStoreKind, url: string, options: RedisCacheStoreOptions): Promise<RedisCacheStores> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  if (kind === 'redis-yet') return createRedisYetStores(url, options.namespace, connectTimeoutMs);
  const client = await connectRedis(url, { connectTimeoutMs, name: 'RedisCacheStore(keyv-redis)' });
  const adapter = new KeyvRedis(client, { namespace: options.namespace });
  // As createKeyv does: KeyvRedis prefixes `${namespace}::`, so Keyv must not add a second prefix.
  const keyv = new Keyv(adapter, { namespace: options.namespace, useKeyPrefix: false });
  return { stores: [keyv], close: () => closeRedis(client) };
}
