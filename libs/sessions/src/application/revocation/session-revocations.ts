import { Inject, Injectable, Logger } from '@nestjs/common';
import { cacheNamespaceLiveSeconds, revocationMarkerTtlSeconds, SessionLifetimes } from '../../domain/session-rules';
import { CLOCK, Clock } from '../ports/clock.port';
import { SESSION_CACHE, SessionCache } from '../ports/session-cache.port';
import { Transaction } from '../ports/unit-of-work.port';
import { AuditedOperation, OutcomePatch } from '../audit/audit-trail';
import { SESSION_LIFETIMES } from '../settings';
import { nothingRevoked, RevocationReceipt } from './revocation-receipt';

/** What a revocation ended: sessions of one user. */
export interface EndedSessions {
  readonly userId: string;
  readonly sessionIds: readonly string[];
}

/** What `revoke` did: the sessions it ended (null when the revocation was refused), and its receipt. */
export interface Revocation {
  readonly ended: EndedSessions | null;
  readonly receipt: RevocationReceipt;
}

/**
 * The one writer of "sessions end": the revoking statement, its Succeeded audit row, the
 * revocation markers and the revocation feed's rows, always together.
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
 *
 * The receipt's accessTokensValidUntil is the clock read once the revoking statements returned,
 * plus the access-token lifetime; not `at` plus it. Every access token is signed inside the
 * transaction that holds its session's row (login inserts it; a refresh and a grace retry update
 * it first), before that transaction commits; the revoking UPDATE waits for that commit to lock
 * the row. So a token of an ended session was signed before the statement returned, though
 * perhaps after `at` (a refresh holding the row while the revocation read its clock), and its
 * `exp` (whole seconds, rounded down, plus the lifetime) is earlier than that reading plus the
 * lifetime. A tighter bound would need each session's last signing time recorded where the
 * revocation locks it: refresh_tokens.issued_at and last_seen_at are read before the row lock is
 * waited for, so a token can be signed well after them. Instances' clocks are assumed to agree
 * (an instance whose clock runs ahead signs `exp`s that much later).
 */
@Injectable()
export class SessionRevocations {
  private readonly logger = new Logger(SessionRevocations.name);

  constructor(
    @Inject(SESSION_CACHE) private readonly cache: SessionCache,
    @Inject(SESSION_LIFETIMES) private readonly lifetimes: SessionLifetimes,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Runs `revoke` (the statements that decide) in `tx`, with the one instant they write as
   * revoked_at; when it ended something (an empty list counts: "nothing was active" is a success),
   * records the operation's success with the ended sessions, plus `outcome`'s fields, and queues
   * and writes their markers as above. `ended` null, with nothing recorded, when `revoke` returns
   * null: the caller fails the operation after the transaction (its receipt then ends nothing).
   */
  async revoke(
    tx: Transaction,
    operation: AuditedOperation,
    revoke: (at: Date) => Promise<EndedSessions | null>,
    outcome: (ended: EndedSessions) => OutcomePatch = () => ({}),
  ): Promise<Revocation> {
    const at = this.clock.now();
    const ended = await revoke(at);
    if (!ended) return { ended: null, receipt: nothingRevoked(at) };
    const receipt = this.receiptOf(ended.sessionIds, at);
    // Registered before the Succeeded event's own hook: once the event is out, the cache knows.
    await this.queueMarkers(tx, ended);
    // In this transaction: the feed holds exactly the committed revocations (see RevocationFeed).
    if (ended.sessionIds.length > 0) await tx.feed.append(ended.userId, ended.sessionIds, at, receipt.accessTokensValidUntil);
    await operation.succeedIn(tx, { subjectUserId: ended.userId, sessionIds: ended.sessionIds, count: ended.sessionIds.length, ...outcome(ended) });
    return { ended, receipt };
  }

  /** Read right after the revoking statements returned (see the class comment). */
  private receiptOf(sessionIds: readonly string[], at: Date): RevocationReceipt {
    if (sessionIds.length === 0) return nothingRevoked(at);
    const locked = Math.max(at.getTime(), this.clock.now().getTime());
    return {
      revokedCount: sessionIds.length,
      sessionIds: [...sessionIds],
      effectiveAt: at,
      accessTokensValidUntil: new Date(locked + this.lifetimes.accessTokenTtlSeconds * 1000),
    };
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
