import { AuditEntry, AuditLogWrites, AuditOutcomeUnavailableError } from '../application/ports/audit-log.port';
import { InMemoryDatabase, Tables } from './in-memory-database';

/** The audit entries a unit of work writes with its change, with the database's one-outcome rule. */
export class InMemoryAuditLog implements AuditLogWrites {
  constructor(
    private readonly db: InMemoryDatabase,
    private readonly tables: () => Tables,
  ) {}

  async append(entries: readonly AuditEntry[]): Promise<void> {
    this.db.takeFailure();
    const { audit } = this.tables();
    for (const entry of entries) {
      const sameOperation = audit.filter((e) => e.correlationId === entry.correlationId);
      if (entry.outcome === 'attempted' && sameOperation.some((e) => e.outcome === 'attempted')) continue;
      if (entry.outcome !== 'attempted' && sameOperation.some((e) => e.outcome !== 'attempted')) throw new AuditOutcomeUnavailableError(entry.correlationId);
      audit.push(entry);
    }
  }
}
