import { type LoginLockoutPolicy, SESSIONS_DEFAULTS } from '@app/sessions';
import { createThrottlerStorage } from '@app/sessions/throttler';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { DynamicModule } from '@nestjs/common';
import { seconds, ThrottlerModule, ThrottlerModuleOptions } from '@nestjs/throttler';
import { Cache } from 'cache-manager';
import { DEFAULT_RATE_LIMIT, RateLimitSettings, RuntimeSettings } from '../runtime-settings';
import { RateLimitThrottlers } from './rate-limit.guard';

function rateLimitsOf(settings: RuntimeSettings): RateLimitSettings {
  return settings.rateLimit ?? DEFAULT_RATE_LIMIT;
}

/** Rate-limit keys go under the same prefix as the library's own, so one prefix is all a deployment names. */
export function cacheKeyPrefixOf(settings: RuntimeSettings): string {
  return settings.sessions.cacheKeyPrefix ?? SESSIONS_DEFAULTS.cacheKeyPrefix;
}

export function loginLockoutOf(settings: RuntimeSettings): LoginLockoutPolicy {
  const limits = rateLimitsOf(settings);
  return { threshold: limits.lockoutThreshold, lockSeconds: limits.lockoutSeconds, maxDelaySeconds: limits.loginMaxDelaySeconds };
}

/**
 * @nestjs/throttler with the throttlers RateLimited routes use (per client IP, per account)
 * and those RateLimitedPerUser routes use (per user, per client IP), counted in the app's Redis under the cache key prefix so every instance shares
 * them. The library's X-RateLimit-* headers are off: a refusal carries Retry-After.
 */
export function rateLimitModule(settings: RuntimeSettings): DynamicModule {
  const limits = rateLimitsOf(settings);
  const window = seconds(limits.windowSeconds);
  return ThrottlerModule.forRootAsync({
    inject: [CACHE_MANAGER],
    useFactory: (cache: Cache): ThrottlerModuleOptions => ({
      throttlers: [
        { name: RateLimitThrottlers.perIp, ttl: window, limit: limits.perIp },
        { name: RateLimitThrottlers.perAccount, ttl: window, limit: limits.perAccount },
        { name: RateLimitThrottlers.perUser, ttl: window, limit: limits.perUser },
        { name: RateLimitThrottlers.perUserIp, ttl: window, limit: limits.perIpAuthenticated },
      ],
      storage: createThrottlerStorage(cache, {
        keyPrefix: cacheKeyPrefixOf(settings),
        timeoutMs: settings.sessions.cacheTimeoutMs ?? SESSIONS_DEFAULTS.cacheTimeoutMs,
      }),
      setHeaders: false,
    }),
  });
}
