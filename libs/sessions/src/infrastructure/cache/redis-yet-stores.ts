import { CacheManagerStore } from 'cache-manager';
import { redisStore, RedisStore } from 'cache-manager-redis-yet';
import { withTimeout } from '../redis/redis-call';
import { closeRedisV4, logConnectionChanges, reconnectBackoff, redactRedisUrl } from '../redis/redis-connection';
import type { RedisCacheStores } from './redis-cache-stores';
import { keyvOfRedisYetStore } from './redis-yet-keyv-adapter';

/**
 * createRedisCacheStores for `redis-yet`. With redis-yet-keyv-adapter.ts (types only), the only
 * file that imports cache-manager-redis-yet.
 */
export async function createRedisYetStores(url: string, namespace: string, connectTimeoutMs: number): Promise<RedisCacheStores> {
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
  return { stores: [keyvOfRedisYetStore(adapted, namespace)], close };
}
