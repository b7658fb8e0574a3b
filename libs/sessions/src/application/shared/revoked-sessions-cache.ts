import { Inject, Injectable, Logger } from '@nestjs/common';
import { revocationMarkerTtlSeconds } from '../../domain/session-rules';
import { SESSIONS_OPTIONS, SessionsModuleOptions } from '../../sessions.options';
import { SESSION_CACHE, SessionCache } from '../ports/session-cache.port';

/**
 * Writes revocation markers after a revocation has committed. A failure here must not undo
 * or fail the revocation (it is already true in PostgreSQL), so it is logged, not thrown.
 */
@Injectable()
export class RevokedSessionsCache {
  private readonly logger = new Logger(RevokedSessionsCache.name);

  constructor(
    @Inject(SESSION_CACHE) private readonly cache: SessionCache,
    @Inject(SESSIONS_OPTIONS) private readonly options: SessionsModuleOptions,
  ) {}

  async markRevoked(userId: string, sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    try {
      await this.cache.markRevoked(userId, sessionIds, revocationMarkerTtlSeconds(this.options.lifetimes));
    } catch (error) {
      this.logger.error({
        msg: 'cache_revocation_marker_failed',
        userId,
        sessionCount: sessionIds.length,
        error: (error as Error).message,
      });
    }
  }
}
