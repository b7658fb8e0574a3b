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

/**
 * current: the hash verified is still the password and the account may sign in; changed: it was
 * replaced meanwhile; disabled / reset_required: an administrator disabled the account or
 * required a password reset.
 */
export type CredentialCheck = 'current' | 'changed' | 'disabled' | 'reset_required' | 'user_not_found';

/** What insertFirstAdmin found: it inserts only while no admin exists and the email is free. */
export type FirstAdminInsert =
  | { readonly kind: 'inserted' }
  | { readonly kind: 'admin_exists' }
  | { readonly kind: 'email_taken'; readonly userId: string; readonly role: UserRole };

export type RoleChange =
  | { readonly kind: 'set'; readonly previousRole: UserRole }
  | { readonly kind: 'user_not_found' }
  /** The user is the only administrator and would be demoted. */
  | { readonly kind: 'last_admin' };

export interface RevokedSessionRef {
  readonly userId: string;
  readonly sessionId: string;
}

export interface CacheMarkerTarget {
  /** The namespace of the revoking instance's cache. */
  readonly own: string;
  /** Queue for `own` too: its inline write failed. */
  readonly includeOwn: boolean;
  readonly liveWithinSeconds: number;
}

/**
 * The writes of one unit of work. Every revocation is decided by a single conditional
 * statement (`... AND revoked_at IS NULL RETURNING`), so concurrent revocations and
 * refreshes can never both win, and the session and its refresh tokens end together.
 */
export interface SessionTransaction {
  /** false when the email is already taken. */
  insertUser(user: NewUser): Promise<boolean>;
  /**
   * Inserts an administrator only if no administrator exists and no account has the email;
   * concurrent calls are serialized. For BootstrapAdmin only.
   */
  insertFirstAdmin(user: NewUser): Promise<FirstAdminInsert>;
  /**
   * Sets a user's role, refusing to demote the last administrator (the admin rows are locked,
   * so two concurrent demotions cannot both pass that check). For ChangeUserRole only.
   */
  setUserRole(userId: string, role: UserRole): Promise<RoleChange>;
  /**
   * Locks the user row (shared, until commit) and says whether `verifiedHash` is still its
   * password hash. A login calls it in the transaction that opens its session: a password change
   * (which locks the row exclusively) then either waits for the login to commit, and its
   * revoke-all ends the new session, or has committed first, and the login sees the new hash.
   */
  lockVerifiedCredentials(userId: string, verifiedHash: string): Promise<CredentialCheck>;
  /**
   * Sets a new hash only if the stored one is still `expectedHash` (the one the caller verified),
   * locking the row until commit; false otherwise. Of two changes verified against one hash, one wins.
   */
  replacePasswordHash(userId: string, expectedHash: string, newHash: string): Promise<boolean>;
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
   * Sets (a date) or clears (null) users.disabled_at, locking the row until commit, so a login
   * in flight either commits first (and the revoke-all that follows ends its session) or sees
   * the account disabled. false when there is no such user. A disabled account keeps its first date.
   */
  setUserDisabled(userId: string, disabledAt: Date | null): Promise<boolean>;
  /**
   * Marks the current password unusable and stores a reset token's hash (replacing any earlier
   * one), locking the row like setUserDisabled. false when there is no such user.
   */
  requirePasswordReset(userId: string, tokenHash: Buffer, at: Date, expiresAt: Date): Promise<boolean>;
  /**
   * Redeems an unexpired reset token in one statement: sets the new hash, clears the requirement
   * and the token (so it works once). The user's id, or null for an unknown, used or expired token.
   */
  redeemPasswordReset(tokenHash: Buffer, newHash: string, now: Date): Promise<string | null>;
  /**
   * Writes audit entries with the change. A repeated Attempted is dropped; an outcome for an
   * operation that already has one throws AuditOutcomeUnavailableError (the change must roll back).
   */
  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  /**
   * Queues revocation markers, committed with the revocation, for every cache namespace seen
   * within `target.liveWithinSeconds` but `target.own` (its markers were written inline), and for
   * `own` too when `includeOwn` (its write failed). The instances of each namespace write their
   * own. Holds a share lock on the namespace list until commit (see registerCacheNamespace).
   * Returns how many namespaces the markers were queued for.
   */
  enqueueCacheMarkers(userId: string, sessionIds: readonly string[], target: CacheMarkerTarget): Promise<number>;
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
  adminExists(): Promise<boolean>;
  findSessionStatus(sessionId: string): Promise<SessionStatus | null>;
  /** Newest first. Without includeRevoked only active (unrevoked, unexpired) sessions. */
  listSessions(userId: string, options: ListSessionsOptions): Promise<SessionRecord[]>;
  findSession(sessionId: string): Promise<SessionRecord | null>;
  describeRefreshToken(tokenHash: Buffer): Promise<RefreshTokenState | null>;
  /** The client addresses of the user's sessions created since `since` (revoked or not), newest first, at most 100. */
  sessionAddressesSince(userId: string, since: Date): Promise<string[]>;
  /**
   * Hands up to `limit` markers queued for `namespace` to `write`; they are removed only if it
   * succeeds. Returns how many were written. Concurrent callers take different markers.
   */
  drainCacheMarkers(namespace: string, limit: number, write: (markers: RevokedSessionRef[]) => Promise<void>): Promise<number>;
  /**
   * Says this namespace is live, so revocations queue markers for it. 'live' when it already was
   * (seen within `liveWithinSeconds`): no revocation skipped it. 'registered' when it was not:
   * revocations may have skipped it until now; the registration waits for every revocation that
   * read the namespace list before it to commit, so a repair that lists revocations after this
   * returns sees them all. Also drops queued markers older than `liveWithinSeconds` (moot by then).
   */
  registerCacheNamespace(namespace: string, liveWithinSeconds: number): Promise<'live' | 'registered'>;
  /**
   * Calls `onQueued` soon after markers for `namespace` are committed (and once it starts
   * listening, for what was queued before). null when the store cannot tell; the heartbeat's
   * drain then is the only one.
   */
  listenForCacheMarkers(namespace: string, onQueued: () => void): { close(): Promise<void> } | null;
  /** Sessions revoked at or after `since` (to re-mark them in the cache after an outage). */
  listRevokedSince(since: Date): Promise<RevokedSessionRef[]>;
  ping(): Promise<void>;
}
export const SESSION_STORE = Symbol('SessionStore');
