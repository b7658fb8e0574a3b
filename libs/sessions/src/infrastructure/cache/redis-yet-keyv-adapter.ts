import { KeyvAdapter } from 'cache-manager';
import type { RedisStore } from 'cache-manager-redis-yet';
import { Keyv } from 'keyv';

/**
 * cache-manager's KeyvAdapter for a cache-manager 5 store (cache-manager-redis-yet), keeping the
 * store in a public field. cache-manager 7 keeps it only in the private `_cache`, with no accessor,
 * so the adapters could find the node-redis client behind a plain KeyvAdapter only by reaching into
 * a private field; this one says where it is. A host with a redis-yet store of its own wraps it with
 * keyvOfRedisYetStore; a plain `new KeyvAdapter(store)` is not recognised as Redis.
 *
 * Only types come from cache-manager-redis-yet here: the package stays an optional peer.
 */
export class RedisYetKeyvAdapter extends KeyvAdapter {
  constructor(readonly redisStore: RedisStore) {
    super(redisStore);
  }
}

/** The Keyv store for `CacheModule.register({ stores: [...] })` over a cache-manager-redis-yet store. */
export function keyvOfRedisYetStore(store: RedisStore, namespace?: string): Keyv {
  return new Keyv({ store: new RedisYetKeyvAdapter(store), namespace });
}

/** The redis-yet store behind a Keyv store adapter, when it is one of ours. */
export function redisYetStoreOf(adapter: unknown): RedisStore | undefined {
  if (adapter instanceof RedisYetKeyvAdapter) return adapter.redisStore;
  // A second copy of this module (ESM next to CJS) defeats instanceof; recognise it by shape.
  const candidate = (adapter as { redisStore?: Partial<RedisStore> } | null | undefined)?.redisStore;
  if (adapter instanceof KeyvAdapter && candidate?.name === 'redis' && typeof candidate.isCacheable === 'function' && candidate.client !== undefined) {
    return candidate as RedisStore;
  }
  return undefined;
}
