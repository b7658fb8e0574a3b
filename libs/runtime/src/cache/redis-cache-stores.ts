import KeyvRedis from '@keyv/redis';
import { keyvOfRedisYetStore } from '@app/sessions';
import { CacheManagerStore } from 'cache-manager';
import { redisStore, RedisStore } from 'cache-manager-redis-yet';
import { Keyv } from 'keyv';
import {
  closeRedis,
  closeRedisV4,
  connectRedis,
  connectRedisCluster,
  logConnectionChanges,
  reconnectBackoff,
  redactRedisUrl,
  withTimeout,
} from './redis-connection';

/**
 * The apps' own Redis connection, as the cache store they give @nestjs/cache-manager; the sessions
 * library builds its session cache, lockout counters and rate-limit storage over that store.
 */

/** The Redis client library behind the cache store (CACHE_STORE). */
export const CACHE_STORE_KINDS = ['keyv-redis', 'redis-yet'] as const;
export type CacheStoreKind = (typeof CACHE_STORE_KINDS)[number];

export interface RedisCacheStoreOptions {
  /** Keyv namespace for whatever else the app caches; the session cache uses its own keys. */
  readonly namespace: string;
  /** How long startup may wait for the first connection. Default 5,000 ms. */
  readonly connectTimeoutMs?: number;
}

/** A Redis Cluster, by its seed nodes (`host:port`); the rest of the cluster is discovered from them. */
export interface RedisClusterTarget {
  readonly clusterNodes: readonly string[];
}

export interface RedisCacheStores {
  /** For `CacheModule.registerAsync({ useFactory: () => ({ stores }) })`. */
  readonly stores: Keyv[];
  /** Disconnects the Redis client. Idempotent; call it on shutdown. */
  close(): Promise<void>;
}

/**
 * Connects to Redis (a URL) or to a Redis Cluster (its seed nodes) and wraps the connection in the
 * Keyv store @nestjs/cache-manager expects: one client, which the sessions library finds inside
 * the store. Startup fails if Redis cannot be reached within connectTimeoutMs; afterwards the
 * client reconnects on its own and the session cache reports "unavailable" in the meantime.
 * A cluster needs `keyv-redis`: the library's cluster adapter is for @keyv/redis's node-redis 5.
 */
export async function createRedisCacheStores(
  kind: CacheStoreKind,
  target: string | RedisClusterTarget,
  options: RedisCacheStoreOptions,
): Promise<RedisCacheStores> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  if (typeof target !== 'string') {
    if (kind !== 'keyv-redis') throw new Error(`A Redis Cluster needs the keyv-redis cache store (got ${kind})`);
    const cluster = await connectRedisCluster(target.clusterNodes, { connectTimeoutMs, name: 'RedisCacheStore(keyv-redis cluster)' });
    const adapter = new KeyvRedis(cluster, { namespace: options.namespace });
    // KeyvRedis.disconnect() (called by @nestjs/cache-manager on module destroy) runs the cluster's
    // close(), which waits for every node client, for ever for the node of a master that is down. Bounded instead.
    const close = () => closeRedis(cluster);
    Object.assign(adapter, { disconnect: close });
    const keyv = new Keyv(adapter, { namespace: options.namespace, useKeyPrefix: false });
    return { stores: [keyv], close };
  }
  const url = target;
  if (kind === 'redis-yet') return createRedisYetStores(url, options.namespace, connectTimeoutMs);
  const client = await connectRedis(url, { connectTimeoutMs, name: 'RedisCacheStore(keyv-redis)' });
  const adapter = new KeyvRedis(client, { namespace: options.namespace });
  // As createKeyv does: KeyvRedis prefixes `${namespace}::`, so Keyv must not add a second prefix.
  const keyv = new Keyv(adapter, { namespace: options.namespace, useKeyPrefix: false });
  return { stores: [keyv], close: () => closeRedis(client) };
}

async function createRedisYetStores(url: string, namespace: string, connectTimeoutMs: number): Promise<RedisCacheStores> {
  let abandoned = false;
  const connecting = redisStore({
    url,
    disableOfflineQueue: true,
    // Lets a connect attempt that we gave up on stop retrying instead of running forever.
    socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: (retries) => (abandoned ? new Error('abandoned') : reconnectBackoff(retries)) },
  });
  let store: RedisStore;
  try {
    store = await withTimeout(connecting, connectTimeoutMs, () => new Error(`Redis at ${redactRedisUrl(url)} did not answer within ${connectTimeoutMs} ms`));
  } catch (error) {
    abandoned = true;
    connecting.then((late) => closeRedisV4(late.client)).catch(() => undefined);
    throw error;
  }
  const client = store.client;
  // redis-yet attaches no 'error' listener; without one the first dropped connection would crash the process.
  logConnectionChanges(client, 'RedisCacheStore(redis-yet)');
  const close = () => closeRedisV4(client);
  // redis-yet's reset() runs FLUSHDB and KeyvAdapter.clear() calls it, so cache.clear()
  // would wipe every key in the database. Refuse instead.
  store.reset = () => Promise.reject(new Error('Refusing FLUSHDB: cache.clear() is disabled on the shared Redis'));
  // redis-yet has no disconnect(), so Keyv.disconnect() (called by @nestjs/cache-manager on
  // module destroy) would leave the client open; give it one.
  const adapted: CacheManagerStore & RedisStore = Object.assign(store, { disconnect: close });
  // keyvOfRedisYetStore, not a plain KeyvAdapter: the library finds the Redis client in it
  // (cache-manager 7 hides a plain adapter's store in a private field).
  return { stores: [keyvOfRedisYetStore(adapted, namespace)], close };
}
