import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SESSION_PURGE_POLICY, SessionPurgePolicy } from '../settings';
import { ExpiredSessionsPurge, PurgeReport } from './expired-sessions-purge';

/** What the schedule runs: ExpiredSessionsPurge, or a test's stand-in. */
export type PurgeRun = Pick<ExpiredSessionsPurge, 'run'>;

/**
 * Runs the purge every intervalSeconds (0: never), the first run one interval after start-up. The
 * next run is scheduled when one ends, so a long run never overlaps itself; the timer is unref'd
 * (it never keeps a process alive). Shutdown clears the timer, ends a run in progress after its
 * current batch (with its outcome recorded) and waits for it, so no batch outlives the pool.
 * Every instance runs it: the purge's lock lets one purge at a time and the others skip.
 */
@Injectable()
export class SessionPurgeSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SessionPurgeSchedule.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PurgeReport | undefined> | undefined;
  private readonly stopping = new AbortController();

  constructor(
    @Inject(ExpiredSessionsPurge) private readonly purge: PurgeRun,
    @Inject(SESSION_PURGE_POLICY) private readonly policy: SessionPurgePolicy,
  ) {}

  /** Whether a run is due later (false when disabled or shut down). */
  get scheduled(): boolean {
    return this.timer !== undefined;
  }

  onApplicationBootstrap(): void {
    this.scheduleNext();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private scheduleNext(): void {
    if (this.policy.intervalSeconds === 0 || this.stopping.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.runOnce().finally(() => {
        this.running = undefined;
        this.scheduleNext();
      });
    }, this.policy.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** A failed run is logged (its Failed entry is in the trail) and the next one tries again. */
  private async runOnce(): Promise<PurgeReport | undefined> {
    try {
      return await this.purge.run(this.stopping.signal);
    } catch (error) {
      this.logger.error({ msg: 'expired_sessions_purge_failed', error: (error as Error).message });
      return undefined;
    }
  }
}
