import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AUDIT_RETENTION_POLICY, AuditRetentionPolicy } from '../settings';
import { AuditMaintenanceReport, AuditRetention } from './audit-retention';

/** What the schedule runs: AuditRetention, or a test's stand-in. */
export type AuditMaintenanceRun = Pick<AuditRetention, 'run' | 'createAhead'>;

/**
 * Keeps the audit trail's partitions: at bootstrap (after the migrations, which run at module init
 * and create the months ahead themselves) the current month's and the ones ahead are created, and a
 * failure there stops start-up (an entry with no partition for it could not be written); then every
 * intervalSeconds (0: never again) a run creates what is missing and drops what is past retention. The next run is scheduled when one
 * ends; the timer is unref'd; shutdown waits for a run in progress. Every instance runs it: the
 * creation function and the retention lock make the instances take turns.
 */
@Injectable()
export class AuditMaintenanceSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditMaintenanceSchedule.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<AuditMaintenanceReport | undefined> | undefined;
  private stopped = false;

  constructor(
    @Inject(AuditRetention) private readonly maintenance: AuditMaintenanceRun,
    @Inject(AUDIT_RETENTION_POLICY) private readonly policy: AuditRetentionPolicy,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.maintenance.createAhead();
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One run now, unless one is running; never throws (a failure is logged, the next run tries again). */
  runNow(): Promise<AuditMaintenanceReport | undefined> {
    this.running ??= this.maintenance
      .run()
      .catch((error: unknown) => {
        this.logger.error({ msg: 'audit_maintenance_failed', error: (error as Error).message });
        return undefined;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(): void {
    if (this.policy.intervalSeconds === 0 || this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runNow().then(() => this.schedule());
    }, this.policy.intervalSeconds * 1000);
    this.timer.unref();
  }
}
