import { SessionsHealthIndicator } from '@app/sessions/health';
import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';

/**
 * GET /health of both apps. Database down: 503, the service cannot work. Cache down: still 200
 * but "degraded" (see SessionsHealthIndicator): the auth check falls back to PostgreSQL.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly sessions: SessionsHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Database and cache reachability' })
  check() {
    return this.health.check([() => this.sessions.database(), () => this.sessions.cache()]);
  }
}
