import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Inject, OnModuleInit, Provider } from '@nestjs/common';
import { Cache } from 'cache-manager';
import { CLOCK, Clock } from '../../application/ports/clock.port';
import { LOGIN_ATTEMPTS } from '../../application/ports/login-attempts.port';
import { SESSION_CACHE } from '../../application/ports/session-cache.port';
import { CACHE_MARKER_OUTBOX, CacheMarkerOutbox } from '../../application/ports/cache-marker-outbox.port';
import { REVOKED_SESSIONS, RevokedSessions } from '../../application/ports/revoked-sessions.port';
import { ReconcilingSessionCache } from '../../application/session-cache/reconciling-session-cache';
import { SESSIONS_OPTIONS, ResolvedSessionsOptions } from '../../sessions.options';
import { SESSIONS_OBSERVER, SessionsObserver } from '../../application/observer/sessions-observer';
import { connectCacheStoreRedis } from './cache-store-redis';
import { createLoginAttempts } from './rate-limit.factory';
import { createSessionCache } from './session-cache.factory';

/** Connects a lazily connecting cache store once the module initialises (see connectCacheStoreRedis). */
class CacheStoreConnection implements OnModuleInit {
  constructor(@Inject(CACHE_MANAGER) private readonly cache: Cache) {}

  onModuleInit(): void {
    connectCacheStoreRedis(this.cache);
  }
}

/** The session cache and the login lockout counters, over the store the app gave @nestjs/cache-manager. */
export const CACHE_PROVIDERS: Provider[] = [
  CacheStoreConnection,
  {
    provide: SESSION_CACHE,
    inject: [CACHE_MANAGER, SESSIONS_OPTIONS, CACHE_MARKER_OUTBOX, REVOKED_SESSIONS, CLOCK, SESSIONS_OBSERVER],
    useFactory: (cache: Cache, o: ResolvedSessionsOptions, outbox: CacheMarkerOutbox, revoked: RevokedSessions, clock: Clock, observer: SessionsObserver) =>
      new ReconcilingSessionCache(createSessionCache(cache, { keyPrefix: o.cacheKeyPrefix, timeoutMs: o.cacheTimeoutMs }), outbox, revoked, clock, {
        lifetimes: o.lifetimes,
        heartbeatMs: o.cacheHeartbeatMs,
        listen: o.cacheMarkerNotifications,
        onTrustChange: (trusted) => observer.cacheTrust(trusted),
      }),
  },
  {
    provide: LOGIN_ATTEMPTS,
    inject: [CACHE_MANAGER, SESSIONS_OPTIONS, CLOCK],
    useFactory: (cache: Cache, o: ResolvedSessionsOptions, clock: Clock) =>
      createLoginAttempts(cache, { keyPrefix: o.cacheKeyPrefix, timeoutMs: o.cacheTimeoutMs, policy: o.loginLockout, clock }),
  },
];
