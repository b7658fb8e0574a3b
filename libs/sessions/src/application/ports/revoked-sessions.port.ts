export interface RevokedSessionRef {
  readonly userId: string;
  readonly sessionId: string;
}

/** The revocations a cache repair marks again (sessions revoked while the cache could not be trusted). */
export interface RevokedSessions {
  /** Sessions revoked at or after `since`. Inside an open unit of work, read through its transaction. */
  listSince(since: Date): Promise<RevokedSessionRef[]>;
}
export const REVOKED_SESSIONS = Symbol('RevokedSessions');
