import { Inject, Injectable, Logger } from '@nestjs/common';
import { cacheNamespaceLiveSeconds, revocationMarkerTtlSeconds } from '../../domain/session-rules';
import { SESSIONS_OPTIONS, ResolvedSessionsOptions } from '../../sessions.options';
import { SESSION_CACHE, SessionCache } from '../ports/session-cache.port';
import { SessionTransaction } from '../ports/session-store.port';

/**
 * Writes revocation markers. They are written inside the revoking transaction, before it
 * commits: a process that dies right after the commit has then already marked the sessions,
 * so no cached "active" entry outlives the revocation. If the transaction rolls back, the
 * markers are dropped again (the next request asks PostgreSQL). A failed write must not fail
 * the revocation: the markers are queued in the same transaction (cache_marker_outbox) and
 * written by any instance of this cache namespace that can reach the cache.
 *
 * Other deployments on the same database (another region with its own Redis, another key
 * prefix, an instance with an in-process cache) cannot be marked inline: the markers are queued
 * for each of their live namespaces in the same transaction, and their instances write them.
 */
@Injectable()
export class RevokedSessionsCache {
  private readonly logger = new Logger(RevokedSessionsCache.name);

  constructor(
    @Inject(SESSION_CACHE) private readonly cache: SessionCache,
    @Inject(SESSIONS_OPTIONS) private readonly options: ResolvedSessionsOptions,
  ) {}

  /** Marks the sessions now, and forgets the marks if the transaction rolls back. */
  async markRevokedIn(tx: SessionTransaction, userId: string, sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    tx.afterRollback(() => {
      this.cache.forget(userId, sessionIds).catch((error: unknown) =>
        this.logger.warn({ msg: 'cache_rollback_forget_failed', userId, sessionCount: sessionIds.length, error: (error as Error).message }),
      );
    });
    let written = true;
    try {
      await this.cache.markRevoked(userId, sessionIds, revocationMarkerTtlSeconds(this.options.lifetimes));
    } catch (error) {
      // Committed with the revocation: another instance that reaches the cache writes them.
      written = false;
      this.logger.warn({ msg: 'cache_revocation_marker_queued', userId, sessionCount: sessionIds.length, error: (error as Error).message });
    }
    await tx.enqueueCacheMarkers(userId, sessionIds, {
      own: this.cache.namespace,
      includeOwn: !written,
      liveWithinSeconds: cacheNamespaceLiveSeconds(this.options.lifetimes),
    });
  }

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
