import { SessionsHealthIndicator } from '@app/sessions/health';
import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiProblem } from '@app/platform';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, type ApiPropertyOptions, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ProcessLifecycle } from './lifecycle';

/**
 * The probes of both apps, in terminus's report format (a failing probe is a 503 problem+json
 * that keeps the report's members).
 *
 * - GET /health/live: the process answers. No dependency is checked, so a database outage never
 *   makes an orchestrator restart every instance; it stays 200 through the shutdown's drain.
 * - GET /health/ready: the instance should receive traffic. Database down: 503, the service
 *   cannot work. Cache down: still 200 but "degraded" (see SessionsHealthIndicator): the auth
 *   check falls back to PostgreSQL. From the first SIGTERM or SIGINT on: 503 at once, without
 *   asking the dependencies, so load balancers stop routing here while the apps drain.
 * - GET /health: the same as /health/ready, for monitors written against earlier releases.
 */
/** One indicator's state in a report, e.g. `{ status: 'up' }` or the cache's `{ status: 'up', degraded: true }`. */
const INDICATORS = {
  type: 'object',
  additionalProperties: { type: 'object', properties: { status: { type: 'string', enum: ['up', 'down'] } }, required: ['status'] },
} satisfies ApiPropertyOptions;

/** terminus's report of a successful check (its own documentation describes the failure as plain JSON, which this service never sends). */
class HealthReport {
  @ApiProperty({ enum: ['ok'] }) status: 'ok';
  @ApiPropertyOptional({ ...INDICATORS, description: 'The indicators that are up' }) info?: Record<string, unknown>;
  @ApiPropertyOptional({ ...INDICATORS, description: 'The indicators that are down (none in a successful check)' }) error?: Record<string, unknown>;
  @ApiProperty({ ...INDICATORS, description: 'Every indicator' }) details: Record<string, unknown>;
}

/** A check that fails: a 503 problem that keeps terminus's members (`info`, `error`, `details`), no Retry-After. */
const NOT_READY = ApiProblem(
  503,
  'Not ready: the database is unreachable, or the process is shutting down; the problem keeps the report’s `info`, `error` and `details`',
  { headers: {} },
);
const HEALTHY = ApiOkResponse({
  type: HealthReport,
  description: 'The check passed (the cache may be reported `degraded`: the auth check then asks PostgreSQL)',
});

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly healthChecks: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly sessions: SessionsHealthIndicator,
    private readonly lifecycle: ProcessLifecycle,
  ) {}

  @Get()
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'Readiness (the same as /health/ready)' })
  @HEALTHY
  @NOT_READY
  health() {
    return this.readiness();
  }

  @Get('live')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'Liveness: the process answers (no dependency is checked)' })
  @ApiOkResponse({ type: HealthReport, description: 'The process answers (`process.shuttingDown` says whether it drains)' })
  liveness() {
    return this.healthChecks.check([() => this.indicators.check('process').up({ shuttingDown: this.lifecycle.shuttingDown })]);
  }

  @Get('ready')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'Readiness: database and cache reachable, and the process not shutting down' })
  @HEALTHY
  @NOT_READY
  readiness() {
    if (this.lifecycle.shuttingDown) {
      // terminus's own failure report, without terminus's error log: a shutdown is no failure.
      const process = { process: { status: 'down', shuttingDown: true } };
      throw new ServiceUnavailableException({ status: 'error', info: {}, error: process, details: process });
    }
    return this.healthChecks.check([() => this.sessions.database(), () => this.sessions.cache()]);
  }
}
