import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { SESSIONS_OPTIONS, SessionsModuleOptions } from '../../sessions.options';
import { AUDIT_LOG, AuditEntry, AuditLog } from '../ports/audit-log.port';
import { CLOCK, Clock } from '../ports/clock.port';
import { PROCESS_INSTANCE_ID } from '../shared/audit-trail';

export const INTERRUPTED_REASON = 'interrupted';
const DEFAULT_INTERRUPTED_AFTER_SECONDS = 60;
/** At start-up, look this far back; afterwards only at what could have been missed since. */
const STARTUP_LOOKBACK_MS = 7 * 24 * 3600 * 1000;
const BATCH = 500;

/**
 * Closes operations whose process died between Attempted and the outcome (a crash, a kill):
 * each gets a Failed entry with reason `interrupted`, at start-up and then periodically. Only
 * entries older than `interruptedAfterSeconds` and written by another process instance are
 * closed, so a live process's running commands are never touched. The database keeps one
 * outcome per operation, so a late real outcome and a recovery pass cannot both be recorded.
 */
@Injectable()
export class InterruptedOperations implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(InterruptedOperations.name);
  private readonly afterMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(AUDIT_LOG) private readonly auditLog: AuditLog,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SESSIONS_OPTIONS) options: SessionsModuleOptions,
  ) {
    this.afterMs = (options.interruptedAfterSeconds ?? DEFAULT_INTERRUPTED_AFTER_SECONDS) * 1000;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.closeInterrupted(STARTUP_LOOKBACK_MS).catch((error: unknown) =>
      this.logger.error({ msg: 'interrupted_recovery_failed', error: (error as Error).message }),
    );
    const every = Math.min(this.afterMs, 60_000);
    this.timer = setInterval(() => {
      this.closeInterrupted(this.afterMs + 10 * every).catch((error: unknown) =>
        this.logger.warn({ msg: 'interrupted_recovery_failed', error: (error as Error).message }),
      );
    }, every);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Returns how many operations were closed. */
  async closeInterrupted(lookbackMs: number): Promise<number> {
    const now = this.clock.now();
    let closed = 0;
    for (;;) {
      const unfinished = await this.auditLog.findUnfinished({
        attemptedAfter: new Date(now.getTime() - lookbackMs),
        attemptedBefore: new Date(now.getTime() - this.afterMs),
        excludeInstance: PROCESS_INSTANCE_ID,
        limit: BATCH,
      });
      if (unfinished.length === 0) break;
      await this.auditLog.append(unfinished.map((attempted) => this.failedFor(attempted, now)));
      closed += unfinished.length;
      if (unfinished.length < BATCH) break;
    }
    if (closed > 0) this.logger.warn({ msg: 'interrupted_operations_closed', count: closed });
    return closed;
  }

  private failedFor(attempted: AuditEntry, now: Date): AuditEntry {
    return {
      ...attempted,
      eventId: uuidv7(),
      outcome: 'failed',
      occurredAt: now,
      reason: INTERRUPTED_REASON,
      details: { attemptedEventId: attempted.eventId, interruptedInstance: attempted.details.instance ?? null },
    };
  }
}
