import { SessionLifetimes } from '../domain/session-rules';

/**
 * The few settings each service of the application layer reads, injected one by one (see
 * SETTINGS_PROVIDERS in application.providers.ts), so a handler depends on the two numbers it
 * uses, not on the module's whole options bag (which holds the signing secret).
 */
export const SESSION_LIFETIMES = Symbol('SessionLifetimes');

/** How refresh-token reuse is told from a retry. */
export interface RefreshPolicy {
  /**
   * How long the client that rotated a refresh token may present it again (several tabs
   * refreshing at once) and get a new pair instead of tripping reuse detection.
   */
  readonly reuseGraceSeconds: number;
}
export const REFRESH_POLICY = Symbol('RefreshPolicy');

/** When an operation left without an outcome counts as interrupted (see InterruptedOperations). */
export interface InterruptedOperationsPolicy {
  readonly afterSeconds: number;
}
export const INTERRUPTED_OPERATIONS_POLICY = Symbol('InterruptedOperationsPolicy');

/** The background purge of expired sessions (see SessionPurgeSchedule and ExpiredSessionsPurge). */
export interface SessionPurgePolicy {
  /** Seconds between runs; 0: never runs. */
  readonly intervalSeconds: number;
  /** How long past its absolute expiry a session (or past its end a lockout) is kept, still listable. */
  readonly marginSeconds: number;
  /** Rows per statement, each statement its own transaction. */
  readonly batchSize: number;
  /** Pause between two batches, so autovacuum and replicas keep up with the deletes. */
  readonly pauseMs: number;
  /** A run stops after this many batches; the next run goes on from there. */
  readonly maxBatchesPerRun: number;
}
export const SESSION_PURGE_POLICY = Symbol('SessionPurgePolicy');

/** The audit trail's partitions and their retention (see AuditRetention and docs/audit.md). */
export interface AuditRetentionPolicy {
  /** Months kept: a partition goes once its whole range is older than this (at least 1). */
  readonly months: number;
  /** Where exports are written; null: nothing is ever dropped (a warning says so once). */
  readonly exportDirectory: string | null;
  /** Seconds between maintenance runs (partitions ahead, then retention); 0: only at start-up. */
  readonly intervalSeconds: number;
  /** Partitions created ahead of the current month. */
  readonly partitionsAhead: number;
}
export const AUDIT_RETENTION_POLICY = Symbol('AuditRetentionPolicy');

/** The concurrent-session cap that logins enforce (see SessionLimits). */
export const SESSION_LIMIT = Symbol('SessionLimit');

export type { SessionLifetimes };
export type { SessionLimit } from '../domain/session-limit';
