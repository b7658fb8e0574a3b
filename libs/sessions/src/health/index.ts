// `@app/sessions/health`: the library's health indicator for @nestjs/terminus (an optional peer).
import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { SessionsHealthProbe } from './sessions-health.probe';

export type { CacheHealth } from './sessions-health.probe';

/** How long one probe may take before it counts as failed. */
export const SESSIONS_HEALTH_TIMEOUT_MS = 1_000;

/**
 * Database and cache health for a terminus `HealthCheckService.check([...])`. Register it in the
 * host module that serves the health route (`providers: [SessionsHealthIndicator]`, with
 * `TerminusModule` imported). PostgreSQL down is `down`: nothing works without it. The cache
 * down is only `degraded`: the auth check falls back to PostgreSQL and revocations still hold,
 * so a cache outage should not take every instance out of a load balancer.
 */
@Injectable()
export class SessionsHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly probe: SessionsHealthProbe,
  ) {}

  database<const Key extends string = 'database'>(key: Key = 'database' as Key, timeoutMs = SESSIONS_HEALTH_TIMEOUT_MS): Promise<HealthIndicatorResult<Key>> {
    return Promise.resolve(
      this.indicators
        .check(key)
        .attempt(() => this.probe.pingDatabase())
        .withTimeout(timeoutMs),
    );
  }

  /** `up` with `trusted: false` while the cache is being repaired after an outage; `degraded` while it does not answer. */
  async cache<const Key extends string = 'cache'>(key: Key = 'cache' as Key, timeoutMs = SESSIONS_HEALTH_TIMEOUT_MS): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    const health = await this.probe.cacheHealth(timeoutMs);
    if (health.reachable) return indicator.up({ store: health.store, trusted: health.trusted });
    return indicator.degraded({ store: health.store, reachable: false, trusted: false, fallback: 'postgres' });
  }
}
