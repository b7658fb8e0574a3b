import { DataSource } from 'typeorm';
import { AuditEntriesRejectedError, AuditEntry, AuditLog, AuditLogWrites, AuditPage, AuditQuery, UnfinishedQuery } from '../../application/ports/audit-log.port';
import { AuditEntryOrmEntity } from './audit-entry.orm-entity';
import { insertAuditEntries } from './audit-entry.sql';
import { isPermanentSqlState, sqlStateOf } from '../../application/audit/write-failures';
import { ManagerSource } from './sql-rows';

/** The audit entries a unit of work writes with its change (see TypeOrmUnitOfWork). */
export class TypeOrmTransactionAuditLog implements AuditLogWrites {
  constructor(private readonly managers: ManagerSource) {}

  async append(entries: readonly AuditEntry[]): Promise<void> {
    // An outcome written with its change must not be dropped: a conflict rolls the change back.
    await insertAuditEntries(this.managers(), entries, 'refuse');
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
  ) {}

  async append(entries: readonly AuditEntry[]): Promise<void> {
    try {
      await insertAuditEntries(this.dataSource.manager, entries);
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

  async findUnfinished(query: UnfinishedQuery): Promise<AuditEntry[]> {
    const rows = await this.managers()
      .getRepository(AuditEntryOrmEntity)
      .createQueryBuilder('a')
      .where(`a.outcome = 'attempted'`)
      .andWhere('a.occurred_at >= :after AND a.occurred_at < :before', { after: query.attemptedAfter, before: query.attemptedBefore })
      .andWhere(`COALESCE(a.details->>'instance', '') <> :instance`, { instance: query.excludeInstance })
      .andWhere(
        `NOT EXISTS (SELECT 1 FROM instances i WHERE i.id::text = a.details->>'instance' AND i.last_heartbeat_at >= now() - make_interval(secs => :silentSeconds))`,
        { silentSeconds: query.instanceSilentForMs / 1000 },
      )
      .andWhere(`NOT EXISTS (SELECT 1 FROM audit_entries o WHERE o.correlation_id = a.correlation_id AND o.outcome <> 'attempted')`)
      .orderBy('a.occurred_at', 'ASC')
      .take(query.limit)
      .getMany();
    return rows.map(({ recordedAt: _recordedAt, ...entry }) => entry);
  }

  async query(query: AuditQuery): Promise<AuditPage> {
    const builder = this.managers()
      .getRepository(AuditEntryOrmEntity)
      .createQueryBuilder('a')
      .orderBy('a.event_id', 'DESC')
      .take(query.limit + 1);
    // Whole triads: a register, login or refresh learns its user only at its outcome.
    if (query.userId) {
      builder.andWhere('a.correlation_id IN (SELECT u.correlation_id FROM audit_entries u WHERE u.user_id = :userId)', { userId: query.userId });
    }
    if (query.correlationId) builder.andWhere('a.correlation_id = :correlationId', { correlationId: query.correlationId });
    if (query.action) builder.andWhere('a.action = :action', { action: query.action });
    if (query.before) builder.andWhere('a.event_id < :before', { before: query.before });
    const rows = await builder.getMany();
    const page = rows.slice(0, query.limit);
    return {
      entries: page.map(({ recordedAt: _recordedAt, ...entry }) => entry),
      nextCursor: rows.length > query.limit ? page[page.length - 1].eventId : null,
    };
  }
}
