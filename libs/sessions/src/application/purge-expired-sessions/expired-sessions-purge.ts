import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Actors } from '../../domain/actor';
import { INTERNAL_ERROR_REASON } from '../../domain/audit-action';
import { NO_REQUEST_CONTEXT } from '../../domain/request-context';
import { AuditedOperation, AuditTrail, OutcomePatch } from '../audit/audit-trail';
import { CLOCK, Clock } from '../ports/clock.port';
import { EXPIRED_RECORDS, ExpiredRecords, ExpiredSessionCursor, START_OF_EXPIRED_SESSIONS } from '../ports/expired-records.port';
import { REVOCATION_FEED, RevocationFeed } from '../ports/revocation-feed.port';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { SESSION_PURGE_POLICY, SessionPurgePolicy } from '../settings';
import { PURGE_EXPIRED_SESSIONS_EVENTS } from './purge-expired-sessions.events';

/** How long past its accessTokensValidUntil a feed entry is kept: the clocks of instances may differ that much. */
const FEED_CLOCK_SLACK_MS = 60_000;

/** Why a run that started deleting stopped. */
export type PurgeStop = 'done' | 'batch_cap' | 'other_instance' | 'stopping';

/** What one run did. */
export type PurgeReport =
  /** Another instance held the purge lock: it is purging. */
  | { readonly kind: 'skipped'; readonly before: Date }
  /** Nothing was past the cutoff: no audit entry, no batch. */
  | { readonly kind: 'nothing_expired'; readonly before: Date }
  | {
      readonly kind: 'purged';
      readonly before: Date;
      readonly sessions: number;
      readonly refreshTokens: number;
      readonly lockouts: number;
      /** Statements (each its own transaction) the run used. */
      readonly batches: number;
      readonly stoppedBy: PurgeStop;
      readonly correlationId: string;
    };

type Phase = 'tokens' | 'sessions' | 'lockouts' | 'done';

interface Position {
  readonly phase: Phase;
  /** Where the token phase goes on from. */
  readonly cursor: ExpiredSessionCursor;
}

interface Tally {
  readonly sessions: number;
  readonly refreshTokens: number;
  readonly lockouts: number;
  readonly batches: number;
}

/**
 * Deletes what has outlived its use: sessions past their absolute expiry plus the margin (a
 * revoked or expired session stays listable that long), their refresh tokens, and login lockouts
 * cleared or ended as long ago. The audit trail keeps their history (audit_entries has no foreign
 * key to sessions, and is append-only).
 *
 * In batches of batchSize rows per statement, each batch its own short transaction, with a pause
 * between them so autovacuum and replicas keep up: tokens first (a session can hold thousands),
 * then the sessions, then the lockouts, until a batch comes back short or the run's cap is met.
 * Every batch takes the purge lock (a transaction-level advisory lock) without waiting: an
 * instance that finds it taken stops, so two instances never purge at once, never wait on each
 * other, and a run is taken over (not repeated) by whichever holds the lock.
 *
 * A purge is a write like any other, so a run that deletes anything is an audited system
 * operation (`sessions.purge`, actor system): Attempted when it finds something past the cutoff,
 * Succeeded (the counts, the cutoff, why it stopped) in the transaction of its last batch, Failed
 * with the counts committed so far if a batch breaks. A run that finds nothing leaves no entry:
 * an hourly pair of zeros per instance would bury the trail in nothing.
 */
@Injectable()
export class ExpiredSessionsPurge {
  private readonly logger = new Logger(ExpiredSessionsPurge.name);

  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    @Inject(EXPIRED_RECORDS) private readonly expired: ExpiredRecords,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SESSION_PURGE_POLICY) private readonly policy: SessionPurgePolicy,
    private readonly trail: AuditTrail,
    @Optional() @Inject(REVOCATION_FEED) private readonly feed?: Pick<RevocationFeed, 'deleteExpired'>,
  ) {}

  /**
   * Deletes the revocation feed's entries whose accessTokensValidUntil passed a minute ago (the
   * slack: instances' clocks): every token they deny has expired on its own, so no verifier needs
   * them, and the feed stays one access-token lifetime of revocations long. Not audited: the
   * revocations themselves are in the trail. Any instance may do it (a row two delete is deleted
   * once); a failure is logged and left for the next run.
   */
  async pruneRevocationFeed(): Promise<number> {
    if (!this.feed) return 0;
    const cutoff = new Date(this.clock.now().getTime() - FEED_CLOCK_SLACK_MS);
    let deleted = 0;
    try {
      for (;;) {
        const batch = await this.feed.deleteExpired(cutoff, this.policy.batchSize);
        deleted += batch;
        if (batch < this.policy.batchSize) return deleted;
      }
    } catch (error) {
      this.logger.warn({ msg: 'revocation_feed_prune_failed', deleted, error: (error as Error).message });
      return deleted;
    }
  }

  /** One run. `signal` (shutdown) cuts the pause short and makes the next batch the last. */
  async run(signal?: AbortSignal): Promise<PurgeReport> {
    const started = Date.now();
    await this.pruneRevocationFeed();
    const before = new Date(this.clock.now().getTime() - this.policy.marginSeconds * 1000);
    const opening = await this.unitOfWork.inTransaction(async () => {
      if (!(await this.expired.tryLockPurge())) return 'skipped' as const;
      return (await this.expired.anyExpired(before)) ? ('expired' as const) : ('nothing_expired' as const);
    });
    if (opening !== 'expired') return { kind: opening, before };

    const operation = this.trail.begin(PURGE_EXPIRED_SESSIONS_EVENTS, {
      actor: Actors.system(),
      subjectUserId: null,
      context: NO_REQUEST_CONTEXT,
      details: { before: before.toISOString(), batchSize: this.policy.batchSize },
    });
    const tally: { -readonly [K in keyof Tally]: Tally[K] } = { sessions: 0, refreshTokens: 0, lockouts: 0, batches: 0 };
    let recorded = false;
    const stoppedBy = await operation.run(async () => {
      try {
        const stop = await this.batches(operation, before, tally, signal);
        recorded = true;
        return stop;
      } catch (error) {
        // A batch that broke rolled back alone: the ones before it are committed, and the Failed
        // entry says how much they deleted. (A Succeeded whose commit failed was already turned
        // into Failed by its transaction.)
        if (!recorded) operation.fail(INTERNAL_ERROR_REASON, { details: { ...this.details(before, tally), error: (error as Error).name ?? 'unknown' } });
        throw error;
      }
    });
    const report = { kind: 'purged' as const, before, ...tally, stoppedBy, correlationId: operation.correlationId };
    this.logger.log({
      msg: 'expired_sessions_purged',
      sessions: tally.sessions,
      refreshTokens: tally.refreshTokens,
      lockouts: tally.lockouts,
      batches: tally.batches,
      stoppedBy,
      before: before.toISOString(),
      durationMs: Date.now() - started,
    });
    return report;
  }

  private async batches(operation: AuditedOperation, before: Date, tally: Tally, signal: AbortSignal | undefined): Promise<PurgeStop> {
    let position: Position = { phase: 'tokens', cursor: START_OF_EXPIRED_SESSIONS };
    for (;;) {
      // The tally and the position move only once a batch has committed: a batch rolled back deleted nothing.
      const step = await this.unitOfWork.inTransaction(async (tx) => {
        if (!(await this.expired.tryLockPurge())) {
          await operation.succeedIn(tx, this.outcome(before, tally, 'other_instance'));
          return { stop: 'other_instance' as const, tally, position };
        }
        const batch = await this.batch(before, { ...tally, batches: tally.batches + 1 }, position);
        const stop: PurgeStop | undefined =
          batch.position.phase === 'done'
            ? 'done'
            : signal?.aborted
              ? 'stopping'
              : batch.tally.batches >= this.policy.maxBatchesPerRun
                ? 'batch_cap'
                : undefined;
        if (stop !== undefined) await operation.succeedIn(tx, this.outcome(before, batch.tally, stop));
        return { stop, ...batch };
      });
      Object.assign(tally, step.tally);
      position = step.position;
      if (step.stop !== undefined) return step.stop;
      await sleep(this.policy.pauseMs, undefined, { signal }).catch(() => undefined);
    }
  }

  /** One statement of the phase the run is in; a short batch moves it to the next phase. */
  private async batch(before: Date, tally: Tally, { phase, cursor }: Position): Promise<{ tally: Tally; position: Position }> {
    const n = this.policy.batchSize;
    switch (phase) {
      case 'tokens': {
        const { deleted, next } = await this.expired.deleteTokensOfExpiredSessions(before, n, cursor);
        return { tally: { ...tally, refreshTokens: tally.refreshTokens + deleted }, position: { phase: deleted < n ? 'sessions' : 'tokens', cursor: next } };
      }
      case 'sessions': {
        const deleted = await this.expired.deleteExpiredSessions(before, n);
        return {
          tally: { ...tally, sessions: tally.sessions + deleted.sessions, refreshTokens: tally.refreshTokens + deleted.refreshTokens },
          position: { phase: deleted.sessions < n ? 'lockouts' : 'sessions', cursor },
        };
      }
      case 'lockouts': {
        const deleted = await this.expired.deleteStaleLockouts(before, n);
        return { tally: { ...tally, lockouts: tally.lockouts + deleted }, position: { phase: deleted < n ? 'done' : 'lockouts', cursor } };
      }
      case 'done':
        return { tally, position: { phase, cursor } };
    }
  }

  private outcome(before: Date, tally: Tally, stoppedBy: PurgeStop): OutcomePatch {
    return { count: tally.sessions, details: { ...this.details(before, tally), stoppedBy } };
  }

  private details(before: Date, tally: Tally): Record<string, unknown> {
    return { before: before.toISOString(), sessions: tally.sessions, refreshTokens: tally.refreshTokens, lockouts: tally.lockouts, batches: tally.batches };
  }
}
