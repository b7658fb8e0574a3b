import { Inject, Injectable, Logger } from '@nestjs/common';
import { join } from 'node:path';
import { Actors } from '../../domain/actor';
import { NO_REQUEST_CONTEXT } from '../../domain/request-context';
import { AuditTrail } from '../audit/audit-trail';
import { AUDIT_PARTITIONS, AuditPartition, AuditPartitions } from '../ports/audit-partitions.port';
import { CLOCK, Clock } from '../ports/clock.port';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { AUDIT_RETENTION_POLICY, AuditRetentionPolicy } from '../settings';
import { AUDIT_RETENTION_EVENTS } from './audit-retention.events';

/** What became of one expired partition. */
export type PartitionRetention =
  | { readonly partition: string; readonly kind: 'dropped'; readonly rows: number; readonly manifestSha256: string; readonly directory: string }
  /** Another instance held the retention lock: it is exporting. */
  | { readonly partition: string; readonly kind: 'other_instance' };

/** What one maintenance run did. */
export interface AuditMaintenanceReport {
  /** Partitions created ahead. */
  readonly created: readonly string[];
  /** Partitions past retention, oldest first (each exported and dropped unless no export directory is set). */
  readonly expired: readonly string[];
  readonly retained: readonly PartitionRetention[];
  /** Expired partitions were left because no export directory is set. */
  readonly exportDirectoryMissing: boolean;
  /** Keys of dropped partitions deleted by this run (see releaseKeys). */
  readonly keysReleased: number;
}

/** Keys deleted per statement after a drop. */
const KEYS_BATCH = 10_000;

/** The first instant kept: `now` less `months` calendar months, in UTC (a day past the new month's end is its last day). */
export function retentionCutoff(now: Date, months: number): Date {
  const cutoff = new Date(now.getTime());
  const day = cutoff.getUTCDate();
  cutoff.setUTCDate(1);
  cutoff.setUTCMonth(cutoff.getUTCMonth() - months);
  const lastDay = new Date(Date.UTC(cutoff.getUTCFullYear(), cutoff.getUTCMonth() + 1, 0)).getUTCDate();
  cutoff.setUTCDate(Math.min(day, lastDay));
  return cutoff;
}

/**
 * The audit trail's upkeep (docs/audit.md, "Partitions and retention"): creates the partitions of
 * the current month and policy.partitionsAhead more, then drops each partition whose whole range
 * is older than policy.months, oldest first, once exported.
 *
 * A drop is an audited system operation (`audit.retention`): Attempted names the partition, then in
 * one transaction under the retention lock the partition is exported (entries, seals, manifest
 * last, each fsynced), dropped through audit_drop_expired_partition (which checks the range against
 * the database's clock, the row count and the first and last event ids against the export, and
 * records the export in audit_exports), and Succeeded is written with the rows and the manifest's
 * digest: the drop and its record commit together or not at all. The export is written before the
 * drop commits, so a drop that rolls back leaves an export and its Failed entry, and the next run
 * writes the export again.
 */
@Injectable()
export class AuditRetention {
  private readonly logger = new Logger(AuditRetention.name);
  private warnedNoExportDirectory = false;

  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    @Inject(AUDIT_PARTITIONS) private readonly partitions: AuditPartitions,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(AUDIT_RETENTION_POLICY) private readonly policy: AuditRetentionPolicy,
    private readonly trail: AuditTrail,
  ) {}

  /** Creates the partitions ahead (recorded_at is the database's now(): its month must have one). */
  async createAhead(): Promise<string[]> {
    const created = await this.partitions.createAhead(this.policy.partitionsAhead);
    if (created.length > 0) this.logger.log({ msg: 'audit_partitions_created', partitions: created });
    return created;
  }

  async run(): Promise<AuditMaintenanceReport> {
    const created = await this.createAhead();
    const cutoff = retentionCutoff(this.clock.now(), this.policy.months);
    const expired = (await this.unitOfWork.inTransaction(() => this.partitions.list())).filter((partition) => partition.rangeEnd <= cutoff);
    const report = { created, expired: expired.map((partition) => partition.name) };
    const directory = this.policy.exportDirectory;
    if (expired.length === 0) return { ...report, retained: [], exportDirectoryMissing: false, keysReleased: await this.releaseKeys() };
    if (directory === null) {
      if (!this.warnedNoExportDirectory) {
        this.warnedNoExportDirectory = true;
        this.logger.warn({
          msg: 'audit_retention_without_export_directory',
          partitions: report.expired,
          retentionMonths: this.policy.months,
          hint: 'set AUDIT_EXPORT_DIR: partitions past retention are dropped only once exported',
        });
      }
      return { ...report, retained: [], exportDirectoryMissing: true, keysReleased: 0 };
    }
    const retained: PartitionRetention[] = [];
    for (const partition of expired) {
      const outcome = await this.retain(partition, join(directory, partition.name));
      retained.push(outcome);
      if (outcome.kind === 'other_instance') break;
    }
    return { ...report, retained, exportDirectoryMissing: false, keysReleased: await this.releaseKeys() };
  }

  /**
   * Deletes the keys of the dropped partitions (and the user links to their entries, first), KEYS_BATCH a statement, each its own short
   * transaction: a month of keys deleted inside the drop would hold the trail locked for as long.
   * Until then they go on refusing a replay of those event ids. A run that stops midway (a crash, a
   * shutdown) leaves the rest to the next, which releases them before anything else.
   */
  private async releaseKeys(): Promise<number> {
    let released = 0;
    for (;;) {
      const batch = await this.partitions.releaseDroppedKeys(KEYS_BATCH);
      released += batch;
      if (batch < KEYS_BATCH) break;
    }
    if (released > 0) this.logger.log({ msg: 'audit_keys_released', keys: released });
    return released;
  }

  private async retain(partition: AuditPartition, directory: string): Promise<PartitionRetention> {
    const base = {
      partition: partition.name,
      rangeStart: partition.rangeStart.toISOString(),
      rangeEnd: partition.rangeEnd.toISOString(),
      retentionMonths: this.policy.months,
    };
    const operation = this.trail.begin(AUDIT_RETENTION_EVENTS, { actor: Actors.system(), subjectUserId: null, context: NO_REQUEST_CONTEXT, details: base });
    return operation.run(() =>
      this.unitOfWork.inTransaction(async (tx): Promise<PartitionRetention> => {
        if (!(await this.partitions.tryLockRetention())) {
          await operation.succeedIn(tx, { details: { ...base, stoppedBy: 'other_instance' } });
          return { partition: partition.name, kind: 'other_instance' };
        }
        const exported = await this.partitions.exportTo(partition, directory);
        await this.partitions.dropExported(partition, this.policy.months, exported);
        await operation.succeedIn(tx, {
          count: exported.rows,
          details: { ...base, rows: exported.rows, seals: exported.seals, manifestSha256: exported.manifestSha256, directory },
        });
        this.logger.log({ msg: 'audit_partition_dropped', ...base, rows: exported.rows, manifestSha256: exported.manifestSha256, directory });
        return { partition: partition.name, kind: 'dropped', rows: exported.rows, manifestSha256: exported.manifestSha256, directory };
      }),
    );
  }
}
