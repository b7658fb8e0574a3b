import { DataSource } from 'typeorm';
import {
  AuditEntriesRejectedError,
  AuditEntry,
  AuditLog,
  AuditLogWrites,
  AuditPage,
  AuditQuery,
  OutcomeCounts,
  UnfinishedQuery,
} from '../../application/ports/audit-log.port';
import { AuditAction } from '../../domain/audit-action';
import { countAuditOutcomesSql, EVENT_ID_SLACK_MS, eventIdFloor } from './audit-counts.sql';
import { isPermanentSqlState, sqlStateOf } from '../../application/audit/write-failures';
import { auditPageSql, insertAuditEntries, selectUnfinishedAuditEntriesSql, unfinishedAuditParameters } from './audit-entry.sql';
import { createPartitionsAheadSql } from './audit-partitions.sql';
import { DEFAULT_SESSIONS_SCHEMA } from './schema-name';
import { ManagerSource, rowsOf } from './sql-rows';

/** The audit entries a unit of work writes with its change (see TypeOrmUnitOfWork). */
export class TypeOrmTransactionAuditLog implements AuditLogWrites {
  constructor(
    private readonly managers: ManagerSource,
    private readonly schema: string = DEFAULT_SESSIONS_SCHEMA,
  ) {}

  async append(entries: readonly AuditEntry[]): Promise<void> {
    // An outcome written with its change must not be dropped: a conflict rolls the change back.
    await insertAuditEntries(this.managers(), this.schema, entries, 'refuse');
  }
}

/**
 * The audit trail outside a command's transaction. Its reads join an open unit of work (through
 * `managers`); its appends never do: an Attempted or a Failed must stay written whatever the
 * transaction open in the caller's context does.
 */
export class TypeOrmAuditLog implements AuditLog {
  constructor(
    private readonly dataSource: DataSource,
    private readonly managers: ManagerSource = () => dataSource.manager,
    /** The library's PostgreSQL schema (see sessionsSchemaName). */
    private readonly schema: string = DEFAULT_SESSIONS_SCHEMA,
  ) {}

  async append(entries: readonly AuditEntry[]): Promise<void> {
    try {
      await this.insertCreatingPartition(entries);
    } catch (error) {
      const code = sqlStateOf(error);
      // Class 22 (data exception: a value too long, an invalid encoding), 23 (integrity constraint
      // violation), 42 (an undefined table or column): it fails again however often it is retried.
      if (isPermanentSqlState(code)) {
        throw new AuditEntriesRejectedError(`The database refused the audit entries (SQLSTATE ${code}: ${(error as Error).message})`, { cause: error });
      }
      throw error;
    }
  }

  /**
   * Inserts the entries; when the database's month has no partition (the maintenance job could not
   * run for months: it creates them ahead), creates it and inserts again, so the recorder's entries
   * wait for no job. Its 23514 is otherwise a permanent class, and the entries would be given up.
   */
  private async insertCreatingPartition(entries: readonly AuditEntry[]): Promise<void> {
    try {
      await insertAuditEntries(this.dataSource.manager, this.schema, entries);
    } catch (error) {
      if (!isMissingPartition(error)) throw error;
      await this.dataSource.query(createPartitionsAheadSql(this.schema), [0]);
      await insertAuditEntries(this.dataSource.manager, this.schema, entries);
    }
  }

  async findUnfinished(query: UnfinishedQuery): Promise<AuditEntry[]> {
    return rowsOf<AuditEntry>(this.managers(), selectUnfinishedAuditEntriesSql(this.schema), unfinishedAuditParameters(query));
  }

  async query(query: AuditQuery): Promise<AuditPage> {
    const { sql, parameters } = auditPageSql(this.schema, query);
    const rows = await rowsOf<AuditEntry>(this.managers(), sql, parameters);
    const page = rows.slice(0, query.limit);
    return { entries: page, nextCursor: rows.length > query.limit ? page[page.length - 1].eventId : null };
  }

  async countOutcomes(action: AuditAction, since: Date): Promise<OutcomeCounts> {
    const floor = eventIdFloor(new Date(since.getTime() - EVENT_ID_SLACK_MS));
    const [counts] = await rowsOf<OutcomeCounts>(this.managers(), countAuditOutcomesSql(this.schema), [action, floor, since]);
    return counts;
  }
}

/** PostgreSQL's refusal of a row no partition holds (SQLSTATE 23514, as a CHECK's, told apart by its message). */
function isMissingPartition(error: unknown): boolean {
  return sqlStateOf(error) === '23514' && /^no partition of relation /.test((error as Error).message ?? '');
}
