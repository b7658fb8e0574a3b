import { createHash, Hash } from 'node:crypto';
import { FileHandle, mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSource, EntityManager } from 'typeorm';
import { AUDIT_EXPORT_FILES, AUDIT_EXPORT_FORMAT, AuditExportManifest, exportedSeal, sha256Hex } from '../../application/audit-seals/audit-export';
import { StoredSeal } from '../../application/audit-seals/seal-check';
import { canonicalTimestamp, GENESIS_SEAL_HASH, SealedEntry } from '../../application/audit-seals/sealed-entry';
import { AuditPartition, AuditPartitionExport, AuditPartitions } from '../../application/ports/audit-partitions.port';
import {
  createPartitionsAheadSql,
  dropExpiredPartitionSql,
  exportEntriesPageSql,
  listPartitionsSql,
  partitionRange,
  releaseDroppedKeysSql,
  retentionLockName,
  TRY_RETENTION_LOCK_SQL,
} from './audit-partitions.sql';
import { sealBeforeSql, sealsPageSql } from './audit-seals.sql';
import { DEFAULT_SESSIONS_SCHEMA } from './schema-name';
import { ManagerSource, rowsOf } from './sql-rows';

/** Entries read per statement while exporting. */
const EXPORT_PAGE = 2_000;
const SEALS_PAGE = 20;

/** One NDJSON file being written: hashed and counted as it goes, fsynced before it is closed. */
class NdjsonWriter {
  private readonly hash: Hash = createHash('sha256');
  lines = 0;

  private constructor(
    private readonly handle: FileHandle,
    readonly file: string,
  ) {}

  static async create(directory: string, file: string): Promise<NdjsonWriter> {
    return new NdjsonWriter(await open(join(directory, file), 'w'), file);
  }

  async write(values: readonly unknown[]): Promise<void> {
    if (values.length === 0) return;
    const text = values.map((value) => `${JSON.stringify(value)}\n`).join('');
    this.hash.update(text);
    this.lines += values.length;
    await this.handle.write(text);
  }

  async close(): Promise<{ file: string; sha256: string; lines: number }> {
    await this.handle.sync();
    await this.handle.close();
    return { file: this.file, sha256: this.hash.digest('hex'), lines: this.lines };
  }

  /** Writes the file with `body`, then fsyncs and closes it; a failed body leaves it closed, unsynced. */
  static async write(directory: string, file: string, body: (writer: NdjsonWriter) => Promise<void>) {
    const writer = await NdjsonWriter.create(directory, file);
    try {
      await body(writer);
    } catch (error) {
      await writer.handle.close();
      throw error;
    }
    return writer.close();
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The partition statements; everything but createAhead through the open unit of work's manager. */
export class TypeOrmAuditPartitions implements AuditPartitions {
  constructor(
    private readonly dataSource: DataSource,
    private readonly managers: ManagerSource,
    private readonly schema: string = DEFAULT_SESSIONS_SCHEMA,
  ) {}

  private get manager(): EntityManager {
    return this.managers();
  }

  async createAhead(monthsAhead: number): Promise<string[]> {
    // Its own transaction (the function's advisory lock is held to its end), never the caller's.
    const rows = await rowsOf<{ name: string }>(this.dataSource.manager, createPartitionsAheadSql(this.schema), [monthsAhead]);
    return rows.map((row) => row.name);
  }

  async list(): Promise<AuditPartition[]> {
    const rows = await rowsOf<{ name: string }>(this.manager, listPartitionsSql(this.schema), []);
    return rows.flatMap(({ name }) => {
      const range = partitionRange(name);
      return range ? [{ name, ...range }] : [];
    });
  }

  async tryLockRetention(): Promise<boolean> {
    const [row] = await rowsOf<{ locked: boolean }>(this.manager, TRY_RETENTION_LOCK_SQL, [retentionLockName(this.schema)]);
    return row.locked;
  }

  async exportTo(partition: AuditPartition, directory: string): Promise<AuditPartitionExport> {
    await mkdir(directory, { recursive: true });
    const from = canonicalTimestamp(partition.rangeStart);
    const to = canonicalTimestamp(partition.rangeEnd);

    let firstEventId: string | null = null;
    let lastEventId: string | null = null;
    const entriesFile = await NdjsonWriter.write(directory, AUDIT_EXPORT_FILES.entries, async (entries) => {
      let after: SealedEntry | null = null;
      for (;;) {
        const page: SealedEntry[] = await rowsOf<SealedEntry>(this.manager, exportEntriesPageSql(this.schema), [
          from,
          to,
          after?.recordedAt ?? null,
          after?.eventId ?? null,
          EXPORT_PAGE,
        ]);
        await entries.write(page);
        if (page.length > 0) {
          firstEventId ??= page[0].eventId;
          after = page[page.length - 1];
          lastEventId = after.eventId;
        }
        if (page.length < EXPORT_PAGE) break;
      }
    });

    let first: StoredSeal | undefined;
    let last: StoredSeal | undefined;
    const sealsFile = await NdjsonWriter.write(directory, AUDIT_EXPORT_FILES.seals, async (seals) => {
      let afterId = '0';
      for (;;) {
        const page = await rowsOf<StoredSeal>(this.manager, sealsPageSql(this.schema), [from, to, afterId, SEALS_PAGE]);
        await seals.write(page.map(exportedSeal));
        if (page.length > 0) {
          first ??= page[0];
          last = page[page.length - 1];
          afterId = last.id;
        }
        if (page.length < SEALS_PAGE) break;
      }
    });
    const before = first ? (await rowsOf<{ sealHash: Buffer }>(this.manager, sealBeforeSql(this.schema), [first.id]))[0] : undefined;

    const manifest: AuditExportManifest = {
      format: AUDIT_EXPORT_FORMAT,
      schema: this.schema,
      partition: partition.name,
      range: { start: from, end: to },
      exportedAt: new Date().toISOString(),
      entries: { ...entriesFile, firstEventId, lastEventId },
      seals: {
        ...sealsFile,
        previousSealHash: (first ? (before?.sealHash ?? GENESIS_SEAL_HASH) : GENESIS_SEAL_HASH).toString('hex'),
        lastSealHash: last?.sealHash.toString('hex') ?? null,
        firstSealId: first?.id ?? null,
        lastSealId: last?.id ?? null,
      },
    };
    // Last, and whole or not at all: written aside, fsynced, renamed into place, the directory fsynced.
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    const aside = join(directory, `${AUDIT_EXPORT_FILES.manifest}.partial`);
    const handle = await open(aside, 'w');
    try {
      await handle.write(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(aside, join(directory, AUDIT_EXPORT_FILES.manifest));
    await fsyncPath(directory);
    return { directory, manifestSha256: sha256Hex(text), rows: entriesFile.lines, seals: sealsFile.lines, firstEventId, lastEventId };
  }

  async dropExported(partition: AuditPartition, retentionMonths: number, exported: AuditPartitionExport): Promise<void> {
    await this.manager.query(dropExpiredPartitionSql(this.schema), [
      partition.name,
      retentionMonths,
      Buffer.from(exported.manifestSha256, 'hex'),
      exported.rows,
      exported.firstEventId,
      exported.lastEventId,
    ]);
  }

  async releaseDroppedKeys(batch: number): Promise<number> {
    const [{ released }] = await rowsOf<{ released: number }>(this.dataSource.manager, releaseDroppedKeysSql(this.schema), [batch]);
    return released;
  }
}
