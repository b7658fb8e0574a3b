import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { FactoryProvider } from '@nestjs/common';
import { Cache } from 'cache-manager';
import { SessionsConfigurationError } from '../../domain/sessions-error';
import { ResolvedSessionsOptions, SESSIONS_OPTIONS } from '../../sessions.options';
import { redisClientOf } from './cache-store-redis';

/**
 * Refuses a cache store that other instances do not share, unless the host said it runs one
 * instance: revocation markers, the login lockout and the rate limits would stay in this process,
 * and another instance would accept a logged-out session until its cached "active" entry expired.
 */
export function assertSharedCacheStore(cache: Cache | undefined, options: ResolvedSessionsOptions): void {
  if (!cache) {
    throw new SessionsConfigurationError(
      'SessionsModule needs the CACHE_MANAGER of @nestjs/cache-manager: import CacheModule.register({ isGlobal: true, stores: [a Redis store] }) in the host (or CacheModule.register({ isGlobal: true }) with singleInstance: true)',
    );
  }
  // Throws for a Redis client it cannot use (a cluster client), rather than fall back to memory.
  if (redisClientOf(cache) !== undefined || options.singleInstance) return;
  throw new SessionsConfigurationError(
    `SessionsModule: the CACHE_MANAGER store is not Redis (${describeStore(cache)}), so revocations made on one instance would not reach the others ` +
      '(each would keep its session cache, login lockout and rate limits in its own memory). ' +
      'Give CacheModule a Redis store (@keyv/redis, or a cache-manager-redis-yet store wrapped with keyvOfRedisYetStore), or set singleInstance: true if exactly one instance ever runs.',
  );
}

function describeStore(cache: Cache): string {
  const store: unknown = cache.stores[0]?.store;
  if (store === undefined) return 'no store';
  if (store instanceof Map) return 'an in-process Map, the default when CacheModule is given no stores';
  return `a ${store?.constructor?.name ?? typeof store}`;
}

/** Runs the check while the module is built, so start-up fails before anything is served. */
export const SHARED_CACHE_CHECK: FactoryProvider<true> = {
  provide: Symbol('SharedCacheCheck'),
  inject: [{ token: CACHE_MANAGER, optional: true }, SESSIONS_OPTIONS],
  useFactory: (cache: Cache | undefined, options: ResolvedSessionsOptions) => {
    assertSharedCacheStore(cache, options);
    return true;
  },
};
