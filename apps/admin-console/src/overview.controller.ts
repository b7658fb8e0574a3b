import { SessionDirectory } from '@app/sessions';
import { SessionsHealthIndicator } from '@app/sessions/health';
import { ApiProblem } from '@app/platform';
import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ConsoleAdminsOnly } from './console-auth/console-access';
import { CacheState, CacheView, DatabaseView, OverviewResponse } from './dto/overview.dto';

/** The console's first screen during an incident: what is live, what happened in the last day, and whether the cache and database can be trusted. */
@ApiTags('admin')
@ConsoleAdminsOnly()
@ApiProblem(503)
@Controller('admin/overview')
export class OverviewController {
  constructor(
    private readonly directory: SessionDirectory,
    private readonly health: SessionsHealthIndicator,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Live sessions, sign-ins, failed sign-ins and revocations of the last 24 h, lockouts in force, cache trust and database health' })
  @ApiOkResponse({ type: OverviewResponse, description: 'The figures, as of generatedAt' })
  async getOverview(): Promise<OverviewResponse> {
    // The ping first and alone: its latency is the database's, not the pool's while the figures are counted.
    const database = await this.pingDatabase();
    const [figures, cache] = await Promise.all([this.directory.overview(), this.cacheState()]);
    return {
      generatedAt: figures.generatedAt,
      activeSessions: figures.activeSessions,
      last24h: figures.last24h,
      lockouts: figures.lockouts,
      cache: { ...cache, queuedMarkers: figures.queuedCacheMarkers },
      database,
    };
  }

  private async pingDatabase(): Promise<DatabaseView> {
    const started = performance.now();
    try {
      const result = await this.health.database();
      if (result.database.status === 'up') return { healthy: true, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
    } catch {
      // Reported as unhealthy below; the figures that follow then fail with a 503.
    }
    return { healthy: false, latencyMs: null };
  }

  private async cacheState(): Promise<Omit<CacheView, 'queuedMarkers'>> {
    const { cache } = await this.health.cache();
    const trusted = cache.status === 'up' && cache.trusted === true;
    const state: CacheState = cache.status !== 'up' ? 'unreachable' : trusted ? 'trusted' : 'repairing';
    return { trusted, state };
  }
}
