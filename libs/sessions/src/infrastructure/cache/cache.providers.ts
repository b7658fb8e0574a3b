import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Provider } from '@nestjs/common';
import { Cache } from 'cache-manager';
import { CLOCK, Clock } from '../../application/ports/clock.port';
import { LOGIN_ATTEMPTS } from '../../application/ports/login-attempts.port';
import { SESSION_CACHE } from '../../application/ports/session-cache.port';
import { SESSION_STORE, SessionStore } from '../../application/ports/session-store.port';
import { ReconcilingSessionCache } from '../../application/shared/reconciling-session-cache';
import { SESSIONS_OPTIONS, ResolvedSessionsOptions } from '../../sessions.options';
import { createLoginAttempts } from './rate-limit.factory';
import { createSessionCache } from './session-cache.factory';

/** The session cache and the login lockout counters, over the store the app gave @nestjs/cache-manager. */
export const CACHE_PROVIDERS: Provider[] = [
  {
    provide: SESSION_CACHE,
    inject: [CACHE_MANAGER, SESSIONS_OPTIONS, SESSION_STORE, CLOCK],
    useFactory: (cache: Cache, o: ResolvedSessionsOptions, store: SessionStore, clock: Clock) =>
      new ReconcilingSessionCache(createSessionCache(cache, { keyPrefix: o.cacheKeyPrefix, timeoutMs: o.cacheTimeoutMs }), store, clock, {
        lifetimes: o.lifetimes,
        heartbeatMs: o.cacheHeartbeatMs,
        listen: o.cacheMarkerNotifications,
      }),
  },
  {
    provide: LOGIN_ATTEMPTS,
    inject: [CACHE_MANAGER, SESSIONS_OPTIONS, CLOCK],
    useFactory: (cache: Cache, o: ResolvedSessionsOptions, clock: Clock) =>
      createLoginAttempts(cache, { keyPrefix: o.cacheKeyPrefix, timeoutMs: o.cacheTimeoutMs, policy: o.loginLockout, clock }),
  },
];
