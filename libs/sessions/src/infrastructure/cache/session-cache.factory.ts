import { Logger } from '@nestjs/common';
import KeyvRedis from '@keyv/redis';
import { Cache, KeyvAdapter } from 'cache-manager';
import type { RedisStore } from 'cache-manager-redis-yet';
import { SessionCache } from '../../application/ports/session-cache.port';
import { MemorySessionCache } from './memory-session-cache';
import { RedisSessionCache } from './redis-session-cache';
import { RedisClient } from './redis-scripts';

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
  const redis = findRedisClient(cache);
  if (redis) {
    return new RedisSessionCache(redis.client, {
      keyPrefix: options.keyPrefix,
      timeoutMs: options.timeoutMs,
      description: `redis (${redis.source})`,
      location: redisLocation(redis.client),
    });
  }
  const store: unknown = cache.stores[0]?.store;
  if (store != null && !(store instanceof Map)) {
    // Another shared store (Memcached, Valkey module, ...) is not supported: revocations made
    // on one instance will not reach the others.
    logger.warn(`Cache store ${describe(store)} is not Redis; the session cache stays in process memory`);
  }
  return new MemorySessionCache({ keyPrefix: options.keyPrefix });
}

/**
 * The node-redis client inside the Redis store the app gave @nestjs/cache-manager (@keyv/redis
 * or cache-manager-redis-yet), for adapters that need commands cache-manager does not offer;
 * undefined when the store is not Redis. Throws for a Redis client it cannot use (a cluster
 * client), since falling back to memory would silently stop sharing state between instances.
 */
export function redisClientOf(cache: Cache): RedisClient | undefined {
  return findRedisClient(cache)?.client;
}

function findRedisClient(cache: Cache): { client: RedisClient; source: string } | undefined {
  const store: unknown = cache.stores[0]?.store;
  if (isKeyvRedis(store)) {
    const client = usableClient(store.client, '@keyv/redis');
    // @keyv/redis connects on first use; kick that off, since our commands bypass it.
    // A failure is already emitted as an 'error' event by KeyvRedis.
    if (!store.client.isOpen) store.getClient().catch(() => undefined);
    return { client, source: '@keyv/redis' };
  }
  const redisYet = redisYetStoreOf(store);
  if (redisYet) return { client: usableClient(redisYet.client, 'cache-manager-redis-yet'), source: 'cache-manager-redis-yet' };
  return undefined;
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

/**
 * cache-manager 7 wraps a cache-manager 5 store (such as redis-yet's) in a KeyvAdapter and
 * keeps it in the private field `_cache`; there is no public accessor.
 */
function redisYetStoreOf(store: unknown): RedisStore | undefined {
  if (store === null || typeof store !== 'object') return undefined;
  const inner = (store as { _cache?: unknown })._cache;
  if (!(store instanceof KeyvAdapter) && inner === undefined) return undefined;
  const candidate = inner as Partial<RedisStore> | undefined;
  if (candidate?.name === 'redis' && typeof candidate.isCacheable === 'function' && candidate.client !== undefined) {
    return candidate as RedisStore;
  }
  return undefined;
}

function usableClient(client: unknown, source: string): RedisClient {
  const candidate = client as Partial<Record<keyof RedisClient, unknown>> | null;
  const commands: Array<keyof RedisClient> = ['get', 'set', 'multi', 'ping', 'eval', 'evalSha', 'pTTL', 'del', 'incr', 'info', 'on'];
  if (typeof candidate?.isReady === 'boolean' && commands.every((command) => typeof candidate[command] === 'function')) {
    return candidate as RedisClient;
  }
  // Falling back to memory here would silently break cross-instance revocation.
  throw new Error(`The Redis client of ${source} is not supported by the session cache and rate limiter (Redis Cluster clients are not)`);
}

/**
 * `redis://host:port/db` of a node-redis client (v4 and v5 keep their options), never its
 * credentials. Two names for one server give two namespaces, which only duplicates markers; one
 * name for two servers (another region, same address) would lose them, so the address is as
 * configured.
 */
export function redisLocation(client: unknown): string {
  const options = (client as { options?: { url?: string; database?: number; socket?: { host?: string; port?: number; path?: string } } }).options;
  const socket = options?.socket;
  let host = socket?.path ?? (socket?.host ? `${socket.host}:${socket.port ?? 6379}` : undefined);
  let database = options?.database;
  if (!host && options?.url) {
    try {
      const url = new URL(options.url);
      host = `${url.hostname}:${url.port || 6379}`;
      database ??= Number(url.pathname.slice(1)) || 0;
    } catch {
      host = undefined;
    }
  }
  return `redis://${host ?? 'unknown'}/${database ?? 0}`;
}

function describe(store: unknown): string {
  return (store as object | null)?.constructor?.name ?? typeof store;
}

