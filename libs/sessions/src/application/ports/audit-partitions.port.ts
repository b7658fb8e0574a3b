/** One monthly partition of audit_entries: [rangeStart, rangeEnd) of recorded_at. */
export interface AuditPartition {
  readonly name: string;
  readonly rangeStart: Date;
  readonly rangeEnd: Date;
}

/** What an export wrote (see audit-export.ts for the files). */
export interface AuditPartitionExport {
  readonly directory: string;
  /** SHA-256 of manifest.json, hex. */
  readonly manifestSha256: string;
  readonly rows: number;
  readonly seals: number;
  readonly firstEventId: string | null;
  readonly lastEventId: string | null;
}

/**
 * The partitions of the audit trail (migration 1764000001400): created ahead, exported, dropped.
 * Every method but createAhead goes through the open unit of work, if any.
 */
export interface AuditPartitions {
  /** Creates the partitions of the database's current month and `monthsAhead` more that are missing; their names. */
  createAhead(monthsAhead: number): Promise<string[]>;
  /** The partitions, oldest first. */
  list(): Promise<AuditPartition[]>;
  /** Takes the retention's transaction-level lock, without waiting: false when another instance holds it. */
  tryLockRetention(): Promise<boolean>;
  /** Writes the partition's entries, the seals of its range and the manifest (last) under `directory`, each fsynced. */
  exportTo(partition: AuditPartition, directory: string): Promise<AuditPartitionExport>;
  /** Drops the exported partition through audit_drop_expired_partition, which checks it all again and records the export. */
  dropExported(partition: AuditPartition, retentionMonths: number, exported: AuditPartitionExport): Promise<void>;
  /** Deletes up to `batch` keys of dropped partitions (audit_release_dropped_keys), in a transaction of its own; how many. */
  releaseDroppedKeys(batch: number): Promise<number>;
}
export const AUDIT_PARTITIONS = Symbol('AuditPartitions');
