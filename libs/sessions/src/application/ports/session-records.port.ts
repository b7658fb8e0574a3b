import { ConsoleSessionState, RefreshTokenState, SessionKind, SessionRecord, SessionStatus } from '../../domain/records';

export interface NewSession {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  /** Default `app`. */
  readonly kind?: SessionKind;
  /** A console login is a reauthentication: the password was just entered. */
  readonly reauthenticatedAt?: Date | null;
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
  /** The acting user's id, or null for the system (or a service). */
  readonly revokedBy: string | null;
  readonly at: Date;
}

export interface RotatedToken {
  readonly tokenId: string;
  readonly sessionId: string;
  readonly userId: string;
}

/** Where the request that rotated a token came from. */
export interface RotationContext {
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
}

/** What the console shows of a user's sessions. */
export interface UserSessionActivity {
  readonly userId: string;
  /** When the newest session (revoked or not) was opened: the last sign-in; null if none ever was. */
  readonly lastLoginAt: Date | null;
  /** Unrevoked, unexpired sessions. */
  readonly activeSessions: number;
}

export interface ListSessionsOptions {
  readonly includeRevoked: boolean;
  readonly now: Date;
}

/**
 * Sessions and their refresh tokens, read. Inside an open unit of work every read goes through
 * its transaction (and sees its writes); outside one, each read is on its own.
 */
export interface SessionRecords {
  findStatus(sessionId: string): Promise<SessionStatus | null>;
  find(sessionId: string): Promise<SessionRecord | null>;
  /** Newest first. Without includeRevoked only active (unrevoked, unexpired) sessions. */
  list(userId: string, options: ListSessionsOptions): Promise<SessionRecord[]>;
  describeRefreshToken(tokenHash: Buffer): Promise<RefreshTokenState | null>;
  /** The client addresses of the user's sessions created since `since` (revoked or not), newest first, at most 100. */
  addressesSince(userId: string, since: Date): Promise<string[]>;
  /**
   * The live console session whose unrevoked refresh token has this hash, read from the store
   * (never a cache), so a session ended a moment ago is refused at once; null for anything else.
   */
  findConsoleSession(tokenHash: Buffer, now: Date): Promise<ConsoleSessionState | null>;
  /** One entry per id given, in their order, in one statement (a page of users, not one query each). */
  activityOf(userIds: readonly string[], now: Date): Promise<UserSessionActivity[]>;
  /** Unrevoked, unexpired sessions of everyone. */
  countActive(now: Date): Promise<number>;
  /** Sessions revoked at or after `since`. */
  countRevokedSince(since: Date): Promise<number>;
}
export const SESSION_RECORDS = Symbol('SessionRecords');

/**
 * Sessions and refresh tokens, as a unit of work changes them (`tx.sessions`). Every revocation
 * is decided by a single conditional statement (`... AND revoked_at IS NULL RETURNING`), so
 * concurrent revocations and refreshes can never both win, and a session and its refresh tokens
 * end together.
 */
export interface SessionRecordWrites extends SessionRecords {
  insert(session: NewSession): Promise<void>;
  insertRefreshToken(token: NewRefreshToken): Promise<void>;
  /**
   * Retires an unexpired, unrevoked token of an active session (recording who rotated it) and
   * touches the session. null when the token cannot be used (unknown, expired, revoked, or its
   * session ended).
   */
  consumeRefreshToken(tokenHash: Buffer, now: Date, context: RotationContext): Promise<RotatedToken | null>;
  /**
   * Touches a session if it is still active (and locks its row until commit); false otherwise.
   * Used before issuing a token without consuming one (a retry within the reuse grace).
   */
  touchActive(sessionId: string, now: Date): Promise<boolean>;
  /**
   * Retires the session's live refresh token(s) as rotated away by this request, so a token
   * issued next is the session's only live one. Call after touchActive (which locks the
   * session row): this statement then sees a rotation that committed while it waited.
   */
  retireLiveRefreshTokens(sessionId: string, now: Date, context: RotationContext): Promise<number>;
  /**
   * Ends the session of a refresh token (and all its tokens): its live token, or one rotated away
   * while the session lives (whoever holds it, the session is compromised or being ended by its
   * owner). null when the session was not active or the user did not match.
   */
  revokeByRefreshToken(tokenHash: Buffer, userId: string | null, stamp: RevocationStamp): Promise<{ sessionId: string; userId: string } | null>;
  /**
   * Ends one active session of the user, or of anyone when userId is null (and its tokens);
   * the owner's id, or null when there was no such active session.
   */
  revoke(userId: string | null, sessionId: string, stamp: RevocationStamp): Promise<string | null>;
  /** Ends every active session of the user but one (and their tokens); the ids ended. */
  revokeAll(userId: string, exceptSessionId: string | null, stamp: RevocationStamp): Promise<string[]>;
  /**
   * The user's live web sessions (console sessions are not counted), oldest first, locked until
   * commit: what the session cap counts and evicts from.
   */
  lockLiveWebSessions(userId: string, now: Date): Promise<string[]>;
  /** Records a reauthentication on a live session of the user; false when there is none. */
  markReauthenticated(userId: string, sessionId: string, at: Date): Promise<boolean>;
}
