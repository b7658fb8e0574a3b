import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { SESSIONS_OPTIONS, ResolvedSessionsOptions } from '../../sessions.options';
import { AUDIT_LOG, AuditEntry, AuditLog } from '../ports/audit-log.port';
import { CLOCK, Clock } from '../ports/clock.port';
import { INSTANCE_REGISTRY, InstanceRegistry } from '../ports/instance-registry.port';
import { PROCESS_INSTANCE_ID } from '../shared/audit-trail';

export const INTERRUPTED_REASON = 'interrupted';
/** At start-up, look this far back; afterwards only at what could have been missed since. */
const STARTUP_LOOKBACK_MS = 7 * 24 * 3600 * 1000;
const BATCH = 500;
/** An instance beats this many times per threshold, so a few lost beats never make it look dead. */
const BEATS_PER_THRESHOLD = 4;

/**
 * Closes operations whose process died between Attempted and the outcome (a crash, a kill):
 * each gets a Failed entry with reason `interrupted`, at start-up and then periodically. An
 * operation is closed only when it is older than `interruptedAfterSeconds` and its instance is
 * known dead: it has not beaten (the `instances` table) for that long, or never did. A live
 * instance's slow command is never touched. Should a command still commit after its operation
 * was closed (its instance was cut off from the database for longer than the threshold), the
 * database refuses its Succeeded entry and the change rolls back: the Failed stays true.
 */
@Injectable()
export class InterruptedOperations implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(InterruptedOperations.name);
  private readonly afterMs: number;
  private timer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(AUDIT_LOG) private readonly auditLog: AuditLog,
    @Inject(INSTANCE_REGISTRY) private readonly instances: InstanceRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SESSIONS_OPTIONS) options: ResolvedSessionsOptions,
  ) {
    this.afterMs = options.interruptedAfterSeconds * 1000;
  }

  async onApplicationBootstrap(): Promise<void> {
    // Beat before the first command can start, so this instance is known alive from its first Attempted.
    await this.heartbeat();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), Math.max(100, Math.floor(this.afterMs / BEATS_PER_THRESHOLD)));
    this.heartbeatTimer.unref();
    await this.closeInterrupted(STARTUP_LOOKBACK_MS).catch((error: unknown) =>
      this.logger.error({ msg: 'interrupted_recovery_failed', error: (error as Error).message }),
    );
    await this.instances.forgetSilentFor(STARTUP_LOOKBACK_MS).catch(() => 0);
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
    clearInterval(this.heartbeatTimer);
  }

  /** Tells the other instances this one is alive. A failed beat is logged, never thrown. */
  async heartbeat(): Promise<void> {
    try {
      await this.instances.heartbeat(PROCESS_INSTANCE_ID);
    } catch (error) {
      this.logger.warn({ msg: 'instance_heartbeat_failed', error: (error as Error).message });
    }
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
        instanceSilentForMs: this.afterMs,
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
