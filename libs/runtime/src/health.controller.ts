import { SessionsHealthIndicator } from '@app/sessions/health';
import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
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
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly sessions: SessionsHealthIndicator,
    private readonly lifecycle: ProcessLifecycle,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness (the same as /health/ready)' })
  check() {
    return this.ready();
  }

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process answers (no dependency is checked)' })
  live() {
    return this.health.check([() => this.indicators.check('process').up({ shuttingDown: this.lifecycle.shuttingDown })]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: database and cache reachable, and the process not shutting down' })
  ready() {
    if (this.lifecycle.shuttingDown) {
      // terminus's own failure report, without terminus's error log: a shutdown is no failure.
      const process = { process: { status: 'down', shuttingDown: true } };
      throw new ServiceUnavailableException({ status: 'error', info: {}, error: process, details: process });
    }
    return this.health.check([() => this.sessions.database(), () => this.sessions.cache()]);
  }
}
