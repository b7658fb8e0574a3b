import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { SESSION_CACHE, SessionCache } from '../application/ports/session-cache.port';
import { UNIT_OF_WORK, UnitOfWork } from '../application/ports/unit-of-work.port';

const PROBE_TIMEOUT_MS = 1_000;

/**
 * Database down: 503, the service cannot work. Cache down: still 200 but "degraded", because
 * the auth check falls back to PostgreSQL and revocations still hold; taking every instance
 * out of a load balancer for a cache outage would turn a slowdown into an outage.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(UNIT_OF_WORK) private readonly database: UnitOfWork,
    @Inject(SESSION_CACHE) private readonly cache: SessionCache,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Database and cache reachability' })
  check() {
    return this.health.check([
      () =>
        this.indicators
          .check('database')
          .attempt(() => this.database.ping())
          .withTimeout(PROBE_TIMEOUT_MS),
      async () => {
        const cache = this.indicators.check('cache');
        try {
          await withTimeout(this.cache.ping(), PROBE_TIMEOUT_MS);
          return cache.up({ store: this.cache.description });
        } catch {
          return cache.degraded({ store: this.cache.description, reachable: false, fallback: 'postgres' });
        }
      },
    ]);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
