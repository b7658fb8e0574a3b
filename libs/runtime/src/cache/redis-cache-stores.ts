import KeyvRedis, { createClient } from '@keyv/redis';
import { Logger } from '@nestjs/common';
import { CacheManagerStore, KeyvAdapter } from 'cache-manager';
import { redisStore, RedisStore } from 'cache-manager-redis-yet';
import { Keyv } from 'keyv';

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

export interface RedisCacheStores {
  /** For `CacheModule.registerAsync({ useFactory: () => ({ stores }) })`. */
  readonly stores: Keyv[];
  /** Disconnects the Redis client. Idempotent; call it on shutdown. */
  close(): Promise<void>;
}

/**
 * Connects to Redis and wraps the connection in the Keyv store @nestjs/cache-manager expects.
 * Startup fails if Redis cannot be reached within connectTimeoutMs; afterwards the client
 * reconnects on its own and the session cache reports "unavailable" in the meantime.
 */
export async function createRedisCacheStores(
  kind: CacheStoreKind,
  url: string,
  options: RedisCacheStoreOptions,
): Promise<RedisCacheStores> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  return kind === 'keyv-redis'
    ? createKeyvRedisStores(url, options.namespace, connectTimeoutMs)
    : createRedisYetStores(url, options.namespace, connectTimeoutMs);
}

async function createKeyvRedisStores(url: string, namespace: string, connectTimeoutMs: number): Promise<RedisCacheStores> {
  const client = createClient({
    url,
    // Fail commands while disconnected instead of queueing them until Redis comes back.
    disableOfflineQueue: true,
    socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: backoff },
  });
  logConnectionChanges(client, 'keyv-redis');
  try {
    await withTimeout(client.connect(), connectTimeoutMs, `Redis at ${redactUrl(url)} did not answer`);
  } catch (error) {
    client.destroy();
    throw error;
  }
  const adapter = new KeyvRedis(client, { namespace });
  // As createKeyv does: KeyvRedis prefixes `${namespace}::`, so Keyv must not add a second prefix.
  const keyv = new Keyv(adapter, { namespace, useKeyPrefix: false });
  return {
    stores: [keyv],
    close: async () => {
      if (!client.isOpen) return;
      await withTimeout(client.close(), 1_000, 'Redis close timed out').catch(() => client.destroy());
    },
  };
}

async function createRedisYetStores(url: string, namespace: string, connectTimeoutMs: number): Promise<RedisCacheStores> {
  let abandoned = false;
  const connecting = redisStore({
    url,
    disableOfflineQueue: true,
    // Lets a connect attempt that we gave up on stop retrying instead of running forever.
    socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: (retries) => (abandoned ? new Error('abandoned') : backoff(retries)) },
  });
  let store: RedisStore;
  try {
    store = await withTimeout(connecting, connectTimeoutMs, `Redis at ${redactUrl(url)} did not answer`);
  } catch (error) {
    abandoned = true;
    connecting.then((late) => closeV4Client(late.client)).catch(() => undefined);
    throw error;
  }
  const client = store.client;
  // redis-yet attaches no 'error' listener, and node-redis re-emits socket errors on the
  // client: without one, the first dropped connection would crash the process.
  logConnectionChanges(client, 'redis-yet');
  const close = () => closeV4Client(client);
  // redis-yet's reset() runs FLUSHDB and KeyvAdapter.clear() calls it, so cache.clear()
  // would wipe every key in the database. Refuse instead.
  store.reset = () => Promise.reject(new Error('Refusing FLUSHDB: cache.clear() is disabled on the shared Redis'));
  // redis-yet has no disconnect(), so Keyv.disconnect() (called by @nestjs/cache-manager on
  // module destroy) would leave the client open; give it one.
  const adapted: CacheManagerStore = Object.assign(store, { disconnect: close });
  const keyv = new Keyv({ store: new KeyvAdapter(adapted), namespace });
  return { stores: [keyv], close };
}

interface V4Client {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  quit(): Promise<unknown>;
  disconnect(): Promise<void>;
}

async function closeV4Client(client: V4Client): Promise<void> {
  if (!client.isOpen) return;
  // QUIT waits for pending replies; while disconnected it would wait forever.
  if (!client.isReady) return client.disconnect();
  await withTimeout(client.quit(), 1_000, 'Redis QUIT timed out').catch(() => (client.isOpen ? client.disconnect() : undefined));
}

/** Capped exponential backoff with jitter, as @keyv/redis uses by default. */
function backoff(retries: number): number {
  return Math.min(2 ** retries * 100, 2_000) + Math.floor(Math.random() * 100);
}

interface ConnectionEvents {
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

/** One line when the connection drops and one when it is back, not one per retry. */
function logConnectionChanges(client: ConnectionEvents, name: string): void {
  const log = new Logger(`RedisCacheStore(${name})`);
  let failing = false;
  client.on('error', (error: Error) => {
    if (failing) return;
    failing = true;
    log.warn(`Redis connection failed: ${error.message}`);
  });
  client.on('ready', () => {
    if (!failing) return;
    failing = false;
    log.log('Redis connection restored');
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
