import { AuditLogWrites } from './audit-log.port';
import { CacheMarkerOutboxWrites } from './cache-marker-outbox.port';
import { LoginLockoutWrites } from './login-lockouts.port';
import { RevocationFeedWrites } from './revocation-feed.port';
import { SessionRecordWrites } from './session-records.port';
import { UserAccountWrites } from './user-accounts.port';

/** One open database transaction: its parts are the write sides of the ports, all in it. */
export interface Transaction {
  readonly users: UserAccountWrites;
  readonly sessions: SessionRecordWrites;
  readonly audit: AuditLogWrites;
  readonly outbox: CacheMarkerOutboxWrites;
  readonly lockouts: LoginLockoutWrites;
  readonly feed: RevocationFeedWrites;
  /**
   * Runs after the outermost transaction commits, in the order registered; the outermost
   * inTransaction call waits for them, so its caller sees their effect (a cache write, say) once
   * the call has returned. A failing callback is logged, never thrown: the transaction has committed.
   */
  afterCommit(callback: () => void | Promise<void>): void;
  /** Runs after the outermost transaction rolls back. */
  afterRollback(callback: (error: unknown) => void): void;
}

export interface UnitOfWork {
  /**
   * Runs work in one database transaction. A call made while another is open in the same async
   * context joins it, so a command dispatched from another command's transaction commits or rolls
   * back with it; so does every read of the ports made meanwhile in that context.
   */
  inTransaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Resolves when the database answers; rejects otherwise (health checks). */
  ping(): Promise<void>;
}
export const UNIT_OF_WORK = Symbol('UnitOfWork');
