import type { RevocationFeedWrites } from '../application/ports/revocation-feed.port';
import { Transaction, UnitOfWork } from '../application/ports/unit-of-work.port';
import { InMemoryAuditLog } from './in-memory-audit-log';
import { InMemoryCacheMarkerOutbox } from './in-memory-cache-marker-outbox';
import { InMemoryDatabase, OpenDraft, Tables } from './in-memory-database';
import { InMemoryLoginLockouts } from './in-memory-login-lockouts';
import { InMemorySessionRecords } from './in-memory-session-records';
import { InMemoryUserAccounts } from './in-memory-user-accounts';

class InMemoryTransaction implements Transaction {
  readonly commitHooks: Array<() => void | Promise<void>> = [];
  readonly rollbackHooks: Array<(error: unknown) => void> = [];
  readonly users: InMemoryUserAccounts;
  readonly sessions: InMemorySessionRecords;
  readonly audit: InMemoryAuditLog;
  readonly outbox: InMemoryCacheMarkerOutbox;
  readonly lockouts: InMemoryLoginLockouts;
  readonly feed: RevocationFeedWrites;

  constructor(db: InMemoryDatabase, draft: Tables) {
    const tables = () => draft;
    this.users = new InMemoryUserAccounts(db, tables);
    this.sessions = new InMemorySessionRecords(db, tables);
    this.audit = new InMemoryAuditLog(db, tables);
    this.outbox = new InMemoryCacheMarkerOutbox(db, tables, (callback) => this.afterCommit(callback));
    this.lockouts = new InMemoryLoginLockouts(db, tables);
    this.feed = {
      append: async (userId, sessionIds, revokedAt, accessTokensValidUntil) => {
        tables().feed.push(...sessionIds.map((sessionId) => ({ sessionId, userId, revokedAt, accessTokensValidUntil })));
      },
    };
  }

  afterCommit(callback: () => void | Promise<void>): void {
    this.commitHooks.push(callback);
  }
  afterRollback(callback: (error: unknown) => void): void {
    this.rollbackHooks.push(callback);
  }
}

/**
 * All-or-nothing transactions over an InMemoryDatabase, with the contract of the real one: writes
 * go to a draft of the tables that replaces them on commit; a unit of work opened while another is
 * open in the same async context joins it (and commits or rolls back with it), and so does every
 * read of the port fakes. Commit hooks run after the outermost commit, in order, before its
 * inTransaction returns; a failing one is collected in `hookFailures`, never thrown.
 */
export class InMemoryUnitOfWork implements UnitOfWork {
  readonly hookFailures: unknown[] = [];
  private readonly transactions = new WeakMap<Tables, InMemoryTransaction>();

  constructor(private readonly db: InMemoryDatabase) {}

  async inTransaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const joined = this.db.open.getStore();
    if (joined && !joined.finished) return work(this.transactionOf(joined.tables));

    const open: OpenDraft = { tables: this.db.draft(), finished: false };
    const tx = this.transactionOf(open.tables);
    let result: T;
    try {
      result = await this.db.open.run(open, () => work(tx));
      open.finished = true;
      this.db.commit(open.tables);
    } catch (error) {
      open.finished = true;
      for (const hook of tx.rollbackHooks) hook(error);
      throw error;
    }
    // Back in the caller's async context: nothing a hook starts joins the finished transaction.
    for (const hook of tx.commitHooks) {
      try {
        await hook();
      } catch (error) {
        this.hookFailures.push(error);
      }
    }
    return result;
  }

  private transactionOf(tables: Tables): InMemoryTransaction {
    let tx = this.transactions.get(tables);
    if (!tx) this.transactions.set(tables, (tx = new InMemoryTransaction(this.db, tables)));
    return tx;
  }

  async ping(): Promise<void> {}
}
