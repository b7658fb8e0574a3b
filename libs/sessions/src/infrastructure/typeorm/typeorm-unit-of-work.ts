import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { DataSource, EntityManager } from 'typeorm';
import { Transaction, UnitOfWork } from '../../application/ports/unit-of-work.port';
import { TypeOrmCacheMarkerOutbox } from './typeorm-cache-marker-outbox';
import { TypeOrmTransactionAuditLog } from './typeorm-audit-log';
import { TypeOrmLoginLockouts } from './typeorm-login-lockouts';
import { TypeOrmRevocationFeed } from './typeorm-revocation-feed';
import { TypeOrmSessionRecords } from './typeorm-session-records';
import { TypeOrmUserAccounts } from './typeorm-user-accounts';
import { DEFAULT_SESSIONS_SCHEMA } from './schema-name';
import { PING_SQL } from './sql-rows';

interface OpenTransaction {
  readonly tx: TypeOrmTransaction;
  readonly manager: EntityManager;
  /** Set once its work has returned: an async continuation left behind must not use its released connection. */
  finished: boolean;
}

/** One database transaction; its parts are the adapters of the write ports, all on its manager. */
class TypeOrmTransaction implements Transaction {
  readonly commitHooks: Array<() => void | Promise<void>> = [];
  readonly rollbackHooks: Array<(error: unknown) => void> = [];
  readonly users: TypeOrmUserAccounts;
  readonly sessions: TypeOrmSessionRecords;
  readonly audit: TypeOrmTransactionAuditLog;
  readonly outbox: TypeOrmCacheMarkerOutbox;
  readonly lockouts: TypeOrmLoginLockouts;
  readonly feed: TypeOrmRevocationFeed;

  constructor(dataSource: DataSource, manager: EntityManager, schema: string, origin: string) {
    const managers = () => manager;
    this.users = new TypeOrmUserAccounts(managers, schema);
    this.sessions = new TypeOrmSessionRecords(managers, schema);
    this.audit = new TypeOrmTransactionAuditLog(managers, schema);
    this.outbox = new TypeOrmCacheMarkerOutbox(dataSource, managers, schema, origin);
    this.lockouts = new TypeOrmLoginLockouts(managers, schema);
    this.feed = new TypeOrmRevocationFeed(dataSource, managers, schema);
  }

  afterCommit(callback: () => void | Promise<void>): void {
    this.commitHooks.push(callback);
  }

  afterRollback(callback: (error: unknown) => void): void {
    this.rollbackHooks.push(callback);
  }
}

/**
 * Transactions over the DataSource, joined through AsyncLocalStorage: a unit of work opened while
 * another is open in the same async context joins it, and so does every read of the port adapters
 * (their manager source is `current()`). No statement made inside a unit of work waits for a second
 * connection, so it cannot deadlock on a pool of one (the embedded database's).
 */
export class TypeOrmUnitOfWork implements UnitOfWork {
  private readonly logger = new Logger(TypeOrmUnitOfWork.name);
  private readonly open = new AsyncLocalStorage<OpenTransaction>();
  /** Names the markers this unit of work queues (see TypeOrmCacheMarkerOutbox.origin). */
  readonly origin = randomUUID();

  constructor(
    private readonly dataSource: DataSource,
    /** The library's PostgreSQL schema (see sessionsSchemaName). */
    private readonly schema: string = DEFAULT_SESSIONS_SCHEMA,
  ) {}

  /** The manager of the transaction open in this async context, or the pool's. */
  current(): EntityManager {
    const open = this.open.getStore();
    return open && !open.finished ? open.manager : this.dataSource.manager;
  }

  async inTransaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const joined = this.open.getStore();
    if (joined && !joined.finished) return work(joined.tx);

    let tx: TypeOrmTransaction | undefined;
    let result: T;
    try {
      result = await this.dataSource.transaction((manager) => {
        const open: OpenTransaction = { tx: new TypeOrmTransaction(this.dataSource, manager, this.schema, this.origin), manager, finished: false };
        tx = open.tx;
        return this.open.run(open, () => work(open.tx)).finally(() => (open.finished = true));
      });
    } catch (error) {
      await this.runHooks(tx?.rollbackHooks ?? [], (hook) => hook(error));
      throw error;
    }
    // Back in the caller's async context here: nothing a hook starts can join the finished transaction.
    await this.runHooks(tx!.commitHooks, (hook) => hook());
    return result;
  }

  async ping(): Promise<void> {
    await this.dataSource.query(PING_SQL);
  }

  /** In the order registered: a revocation's own markers are written before its Succeeded event goes out. */
  private async runHooks<H>(hooks: H[], call: (hook: H) => void | Promise<void>): Promise<void> {
    for (const hook of hooks) {
      try {
        await call(hook);
      } catch (error) {
        this.logger.error(`A transaction hook failed: ${(error as Error).message}`, (error as Error).stack);
      }
    }
  }
}
