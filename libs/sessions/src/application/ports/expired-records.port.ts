/**
 * The rows that outlived their use: sessions (and their refresh tokens) past their absolute expiry
 * plus the purge margin, and login lockouts long cleared or long ended. Every method works in the
 * unit of work open in the caller's async context, and must be called inside one: the purge lock
 * is a transaction's, and each batch is meant to be its own short transaction.
 */
export interface ExpiredRecords {
  /**
   * Takes the purge lock for the open transaction, without waiting: false when another instance
   * holds it (it is purging). Ends with the transaction.
   */
  tryLockPurge(): Promise<boolean>;
  /** Whether anything is there to delete before `cutoff` (a cheap look before a run is audited). */
  anyExpired(cutoff: Date): Promise<boolean>;
  /**
   * Deletes up to `limit` refresh tokens of sessions that expired before `cutoff`, walking the
   * sessions by (expiry, id) from `from` (inclusive: a session whose tokens did not all fit in one
   * batch is met again). Returns how many went and where the next batch starts.
   */
  deleteTokensOfExpiredSessions(cutoff: Date, limit: number, from: ExpiredSessionCursor): Promise<{ deleted: number; next: ExpiredSessionCursor }>;
  /** Deletes up to `limit` sessions that expired before `cutoff`, with whatever refresh tokens they still have. */
  deleteExpiredSessions(cutoff: Date, limit: number): Promise<{ sessions: number; refreshTokens: number }>;
  /** Deletes up to `limit` login lockouts cleared, or ended, before `cutoff`. */
  deleteStaleLockouts(cutoff: Date, limit: number): Promise<number>;
}
export const EXPIRED_RECORDS = Symbol('ExpiredRecords');

/** A position in the walk over expired sessions, by (expires_at, id). */
export interface ExpiredSessionCursor {
  readonly expiresAt: Date;
  readonly sessionId: string;
}

/** Before every session. */
export const START_OF_EXPIRED_SESSIONS: ExpiredSessionCursor = Object.freeze({ expiresAt: new Date(0), sessionId: '00000000-0000-0000-0000-000000000000' });
