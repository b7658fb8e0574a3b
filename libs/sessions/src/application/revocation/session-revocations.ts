import { Inject, Injectable, Logger } from '@nestjs/common';
import { cacheNamespaceLiveSeconds, revocationMarkerTtlSeconds, SessionLifetimes } from '../../domain/session-rules';
import { SESSION_CACHE, SessionCache } from '../ports/session-cache.port';
import { Transaction } from '../ports/unit-of-work.port';
import { AuditedOperation, OutcomePatch } from '../audit/audit-trail';
import { SESSION_LIFETIMES } from '../settings';

/** What a revocation ended: sessions of one user. */
export interface EndedSessions {
  readonly userId: string;
  readonly sessionIds: readonly string[];
}

/**
 * The one writer of "sessions end": the revoking statement, its Succeeded audit row and the
 * revocation markers, always together.
 *
 * In the transaction: the statement decides, the markers are queued in the outbox for every live
 * cache namespace, this instance's own included (so a process that dies after the commit leaves
 * them for another instance of its namespace, which drains them on NOTIFY or at its heartbeat),
 * and the Succeeded entry is written. No Redis call is made there: a transaction holds the
 * sessions' row locks, and a slow Redis would hold them with it.
 *
 * After the commit, before the unit of work returns (so before the command answers), this
 * instance writes its own markers to the cache: answered means enforced. If that write fails, the
 * queued rows remain for the drain and the cache distrusts itself until it is repaired (see
 * ReconcilingSessionCache). A rollback leaves nothing to undo: nothing reached the cache.
 */
@Injectable()
export class SessionRevocations {
  private readonly logger = new Logger(SessionRevocations.name);

  constructor(
    @Inject(SESSION_CACHE) private readonly cache: SessionCache,
    @Inject(SESSION_LIFETIMES) private readonly lifetimes: SessionLifetimes,
  ) {}

  /**
   * Runs `revoke` (the statements that decide) in `tx`; when it ended something (an empty list
   * counts: "nothing was active" is a success), records the operation's success with the ended
   * sessions, plus `outcome`'s fields, and queues and writes their markers as above. null, with
   * nothing recorded, when `revoke` returns null: the caller fails the operation after the
   * transaction.
   */
  async revoke(
    tx: Transaction,
    operation: AuditedOperation,
    revoke: () => Promise<EndedSessions | null>,
    outcome: (ended: EndedSessions) => OutcomePatch = () => ({}),
  ): Promise<EndedSessions | null> {
    const ended = await revoke();
    if (!ended) return null;
    // Registered before the Succeeded event's own hook: once the event is out, the cache knows.
    await this.queueMarkers(tx, ended);
    await operation.succeedIn(tx, { subjectUserId: ended.userId, sessionIds: ended.sessionIds, count: ended.sessionIds.length, ...outcome(ended) });
    return ended;
  }

  private async queueMarkers(tx: Transaction, { userId, sessionIds }: EndedSessions): Promise<void> {
    if (sessionIds.length === 0) return;
    await tx.outbox.enqueue(userId, sessionIds, { own: this.cache.namespace, liveWithinSeconds: cacheNamespaceLiveSeconds(this.lifetimes) });
    tx.afterCommit(() => this.writeOwnMarkers(userId, sessionIds));
  }

  private async writeOwnMarkers(userId: string, sessionIds: readonly string[]): Promise<void> {
    try {
      await this.cache.markRevoked(userId, sessionIds, revocationMarkerTtlSeconds(this.lifetimes));
    } catch (error) {
      // Committed and queued: an instance of this namespace that reaches the cache writes them.
      this.logger.warn({ msg: 'cache_revocation_marker_queued', userId, sessionCount: sessionIds.length, error: (error as Error).message });
    }
  }
}
