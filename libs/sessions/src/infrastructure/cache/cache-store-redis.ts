import KeyvRedis from '@keyv/redis';
import { Cache } from 'cache-manager';
import { isRedisClient, RedisClient } from '../redis/redis-client';
import { clusterRedisClient, isRedisCluster, redisClusterLocation } from '../redis/redis-cluster-client';
import { redisLocation } from '../redis/redis-location';
import { redisYetStoreOf } from './redis-yet-keyv-adapter';

export interface CacheStoreRedis {
  readonly client: RedisClient;
  /** Which store package carries it, for logs and health output. */
  readonly source: '@keyv/redis' | 'cache-manager-redis-yet';
  /** `redis://host:port/db`, or `redis-cluster://seeds` for a cluster: with the key prefix, the cache namespace. */
  readonly location: string;
  /** True for a Redis Cluster client (node-redis 5 `createCluster`, inside @keyv/redis). */
  readonly cluster: boolean;
}

/**
 * The node-redis client inside the Redis store the app gave @nestjs/cache-manager (@keyv/redis, or
 * cache-manager-redis-yet wrapped by RedisYetKeyvAdapter), for adapters that need commands
 * cache-manager does not offer (SET NX, pipelines, scripts, per-call timeouts); undefined when the
 * first store is not Redis. A @keyv/redis store over a Redis Cluster client (node-redis 5
 * `createCluster`) is seen through clusterRedisClient. Throws for a Redis client it cannot use,
 * since falling back to memory would silently stop sharing state between instances.
 */
export function findCacheStoreRedis(cache: Cache): CacheStoreRedis | undefined {
  const store: unknown = cache.stores[0]?.store;
  if (isKeyvRedis(store)) {
    const client: unknown = store.client;
    if (isRedisCluster(client)) return { client: clusterRedisClient(client), source: '@keyv/redis', location: redisClusterLocation(client), cluster: true };
    return { client: usableClient(client, '@keyv/redis'), source: '@keyv/redis', location: redisLocation(client), cluster: false };
  }
  const redisYet = redisYetStoreOf(store);
  if (redisYet) {
    const client = usableClient(redisYet.client, 'cache-manager-redis-yet');
    return { client, source: 'cache-manager-redis-yet', location: redisLocation(client), cluster: false };
  }
  return undefined;
}

/**
 * Starts connecting the client of a @keyv/redis store that is not connected: @keyv/redis connects
 * on first use, and the adapters' commands bypass it. Run when the module initialises, never while
 * its providers are built: a start-up that fails part-way (and the host closing its client because
 * of it) must not be followed by the library opening that client again, for ever. A failure is
 * emitted as an 'error' event by KeyvRedis; until the client is ready the adapters fall back.
 */
export function connectCacheStoreRedis(cache: Cache): void {
  const store: unknown = cache.stores[0]?.store;
  if (isKeyvRedis(store) && !store.client.isOpen) store.getClient().catch(() => undefined);
}

/** The client of findCacheStoreRedis alone. */
export function redisClientOf(cache: Cache): RedisClient | undefined {
  return findCacheStoreRedis(cache)?.client;
}

function isKeyvRedis(store: unknown): store is KeyvRedis<unknown> {
  if (store instanceof KeyvRedis) return true;
  // A second copy of @keyv/redis (ESM next to CJS) defeats instanceof; recognise it by shape.
  const candidate = store as Partial<KeyvRedis<unknown>> | null;
  return (
    typeof candidate?.getClient === 'function' &&
    typeof candidate.isCluster === 'function' &&
    candidate.opts?.dialect === 'redis' &&
    candidate.client !== undefined
  );
}

function usableClient(client: unknown, source: string): RedisClient {
  if (isRedisClient(client)) return client;
  // Falling back to memory here would silently break cross-instance revocation.
  throw new Error(
    `The Redis client of ${source} is not supported by the session cache and rate limiter (a node-redis client, or a node-redis 5 cluster client inside @keyv/redis, is)`,
  );
}
