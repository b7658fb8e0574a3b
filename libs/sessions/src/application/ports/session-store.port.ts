import { RefreshTokenState, SessionRecord, SessionStatus, UserRecord, UserRole } from '../../domain/records';
import { AuditEntry } from './audit-log.port';

export interface NewUser {
  readonly id: string;
  readonly email: string;
  readonly passwordHash: string;
  readonly role: UserRole;
  readonly createdAt: Date;
}

export interface NewSession {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
}

export interface NewRefreshToken {
  readonly id: string;
  readonly sessionId: string;
  readonly userId: string;
  readonly tokenHash: Buffer;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  /** The token this one replaced on rotation; null for the first token of a session. */
  readonly parentId: string | null;
}

/** Who and why, written on every session a revocation ends. */
export interface RevocationStamp {
  readonly reason: string;
  /** The acting user's id, or null for the system. */
  readonly revokedBy: string | null;
  readonly at: Date;
}

export interface RotatedToken {
  readonly tokenId: string;
  readonly sessionId: string;
  readonly userId: string;
}

export interface RevokedSessionRef {
  readonly userId: string;
  readonly sessionId: string;
}

/**
 * The writes of one unit of work. Every revocation is decided by a single conditional
 * statement (`... AND revoked_at IS NULL RETURNING`), so concurrent revocations and
 * refreshes can never both win, and the session and its refresh tokens end together.
 */
export interface SessionTransaction {
  /** false when the email is already taken. */
  insertUser(user: NewUser): Promise<boolean>;
  setUserRole(userId: string, role: UserRole): Promise<void>;
  setPasswordHash(userId: string, passwordHash: string): Promise<void>;
  insertSession(session: NewSession): Promise<void>;
  insertRefreshToken(token: NewRefreshToken): Promise<void>;
  /**
   * Retires an unexpired, unrevoked token of an active session (recording who rotated it) and
   * touches the session. null when the token cannot be used (unknown, expired, revoked, or its
   * session ended).
   */
  consumeRefreshToken(tokenHash: Buffer, now: Date, context: { ipAddress: string | null; userAgent: string | null }): Promise<RotatedToken | null>;
  /**
   * Touches a session if it is still active (and locks its row until commit); false otherwise.
   * Used before issuing a token without consuming one (a retry within the reuse grace).
   */
  touchActiveSession(sessionId: string, now: Date): Promise<boolean>;
  /**
   * Retires the session's live refresh token(s) as rotated away by this request, so a token
   * issued next is the session's only live one. Call after touchActiveSession (which locks the
   * session row): this statement then sees a rotation that committed while it waited.
   */
  retireLiveRefreshTokens(sessionId: string, now: Date, context: { ipAddress: string | null; userAgent: string | null }): Promise<number>;
  /**
   * Ends the session of a refresh token (and all its tokens): its live token, or one rotated away
   * while the session lives (whoever holds it, the session is compromised or being ended by its
   * owner). null when the session was not active or the user did not match.
   */
  revokeSessionByRefreshToken(tokenHash: Buffer, userId: string | null, stamp: RevocationStamp): Promise<{ sessionId: string; userId: string } | null>;
  /**
   * Ends one active session of the user, or of anyone when userId is null (and its tokens);
   * the owner's id, or null when there was no such active session.
   */
  revokeSession(userId: string | null, sessionId: string, stamp: RevocationStamp): Promise<string | null>;
  /** Whether the user exists, read inside the unit of work (a revocation of an unknown user is refused). */
  userExists(userId: string): Promise<boolean>;
  /** Ends every active session of the user but one (and their tokens); the ids ended. */
  revokeAllSessions(userId: string, exceptSessionId: string | null, stamp: RevocationStamp): Promise<string[]>;
  /**
   * Writes audit entries with the change. A repeated Attempted is dropped; an outcome for an
   * operation that already has one throws AuditOutcomeUnavailableError (the change must roll back).
   */
  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  /** Records revocation markers the cache could not take, to be written by whichever instance can. */
  enqueueCacheMarkers(userId: string, sessionIds: readonly string[]): Promise<void>;
  /**
   * Runs after the outermost transaction commits; the outermost inTransaction call waits for
   * it, so its caller sees the effect (a cache eviction, say) once the call has returned.
   * A failing callback is logged, never thrown: the transaction has committed.
   */
  afterCommit(callback: () => void | Promise<void>): void;
  /** Runs after the outermost transaction rolls back. */
  afterRollback(callback: (error: unknown) => void): void;
}

export interface ListSessionsOptions {
  readonly includeRevoked: boolean;
  readonly now: Date;
}

export interface SessionStore {
  /**
   * Runs work in one database transaction. A call made while another is open in the same
   * async context joins it, so a command dispatched from another command's transaction
   * commits or rolls back with it.
   */
  inTransaction<T>(work: (tx: SessionTransaction) => Promise<T>): Promise<T>;
  findUserByEmail(email: string): Promise<UserRecord | null>;
  findUserById(userId: string): Promise<UserRecord | null>;
  findSessionStatus(sessionId: string): Promise<SessionStatus | null>;
  /** Newest first. Without includeRevoked only active (unrevoked, unexpired) sessions. */
  listSessions(userId: string, options: ListSessionsOptions): Promise<SessionRecord[]>;
  findSession(sessionId: string): Promise<SessionRecord | null>;
  describeRefreshToken(tokenHash: Buffer): Promise<RefreshTokenState | null>;
  /**
   * Hands up to `limit` queued cache markers to `write`; they are removed only if it succeeds.
   * Returns how many were written. Concurrent callers take different markers.
   */
  drainCacheMarkers(limit: number, write: (markers: RevokedSessionRef[]) => Promise<void>): Promise<number>;
  /** Sessions revoked at or after `since` (to re-mark them in the cache after an outage). */
  listRevokedSince(since: Date): Promise<RevokedSessionRef[]>;
  ping(): Promise<void>;
}
export const SESSION_STORE = Symbol('SessionStore');
