/**
 * Login lockouts as PostgreSQL keeps them: the Redis counters (LoginAttempts) decide whether a
 * network may try a password, but they cannot be listed, so each lock a failure engages is also
 * recorded here, one row per (email, network), for the console to show and UnlockUser to clear.
 */

/** A lock a failed login just engaged. */
export interface EngagedLoginLock {
  /** Normalized, whether or not an account has it. */
  readonly email: string;
  readonly network: string;
  /** The account of the email when the failure was counted, or null. */
  readonly userId: string | null;
  readonly failedAttempts: number;
  readonly lockedAt: Date;
  readonly lockedUntil: Date;
}

/** A recorded lock not yet cleared (it may have expired). */
export interface RecordedLoginLock {
  readonly network: string;
  readonly lockedUntil: Date;
}

/** A lock in force: its email (and account, when known), and when it ends. */
export interface CurrentLoginLock {
  readonly userId: string | null;
  readonly email: string;
  readonly lockedUntil: Date;
}

export interface LoginLockouts {
  /**
   * Upserts the lock of this (email, network) (a lock engaged again replaces a cleared or
   * expired one). Written on its own, outside any unit of work: a failed login opens none.
   */
  record(lock: EngagedLoginLock): Promise<void>;
  /** The email's recorded locks not yet cleared, expired ones too (their Redis counters may live on). */
  uncleared(email: string): Promise<RecordedLoginLock[]>;
  /** The locks in force at `now`, latest end first, at most `limit`, and how many there are in all. */
  current(now: Date, limit: number): Promise<{ readonly total: number; readonly locks: CurrentLoginLock[] }>;
}
export const LOGIN_LOCKOUTS = Symbol('LoginLockouts');

/** The locks, as a unit of work changes them (`tx.lockouts`). */
export interface LoginLockoutWrites extends LoginLockouts {
  /**
   * Marks these locks of the email cleared, each only if it is still the one read (a lock engaged
   * again meanwhile ends later, and stays); how many of those marked were in force at `at`.
   */
  markCleared(email: string, locks: readonly RecordedLoginLock[], at: Date, clearedBy: string | null): Promise<number>;
}
