import { Transaction, UnitOfWork } from '../application/ports/unit-of-work.port';
import { InMemoryAuditLog } from './in-memory-audit-log';
import { InMemoryCacheMarkerOutbox } from './in-memory-cache-marker-outbox';
import { InMemoryDatabase, Tables } from './in-memory-database';
import { InMemorySessionRecords } from './in-memory-session-records';
import { InMemoryUserAccounts } from './in-memory-user-accounts';

class InMemoryTransaction implements Transaction {
  readonly commitHooks: Array<() => void | Promise<void>> = [];
  readonly rollbackHooks: Array<(error: unknown) => void> = [];
  readonly users: InMemoryUserAccounts;
  readonly sessions: InMemorySessionRecords;
  readonly audit: InMemoryAuditLog;
  readonly outbox: InMemoryCacheMarkerOutbox;

  constructor(db: InMemoryDatabase, draft: Tables) {
    const tables = () => draft;
    this.users = new InMemoryUserAccounts(db, tables);
    this.sessions = new InMemorySessionRecords(db, tables);
    this.audit = new InMemoryAuditLog(db, tables);
    this.outbox = new InMemoryCacheMarkerOutbox(db, tables, (callback) => this.afterCommit(callback));
  }

  afterCommit(callback: () => void | Promise<void>): void {
    this.commitHooks.push(callback);
  }
  afterRollback(callback: (error: unknown) => void): void {
    this.rollbackHooks.push(callback);
  }
}

/**
 * All-or-nothing transactions over an InMemoryDatabase: writes go to a draft of the tables that
 * replaces them on commit. Commit hooks run after the commit, in order, before inTransaction returns.
 */
export class InMemoryUnitOfWork implements UnitOfWork {
  constructor(private readonly db: InMemoryDatabase) {}

  async inTransaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const draft = this.db.draft();
    const tx = new InMemoryTransaction(this.db, draft);
    try {
      const result = await work(tx);
      this.db.commit(draft);
      for (const hook of tx.commitHooks) await hook();
      return result;
    } catch (error) {
      for (const hook of tx.rollbackHooks) hook(error);
      throw error;
    }
  }

  async ping(): Promise<void> {}
}
