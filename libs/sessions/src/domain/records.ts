/** Plain data as the store hands it out: no entities, no managers. */
export type UserRole = 'user' | 'admin';
export const USER_ROLES: readonly UserRole[] = ['user', 'admin'];

export interface UserRecord {
  readonly id: string;
  readonly email: string;
  readonly passwordHash: string;
  readonly role: UserRole;
  readonly createdAt: Date;
}

/**
 * `app`: a session of the web API (access and refresh tokens). `console`: a session of the admin
 * console, whose one refresh token is its cookie's credential, never rotated and refused by
 * the web API's refresh.
 */
export type SessionKind = 'app' | 'console';
export const SESSION_KINDS: readonly SessionKind[] = ['app', 'console'];

export interface SessionRecord {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  readonly expiresAt: Date;
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  readonly revokedAt: Date | null;
  readonly revokedReason: string | null;
  readonly revokedBy: string | null;
  readonly kind: SessionKind;
  /** When the password was last entered again in this session (a console login counts), for step-up; null if never. */
  readonly reauthenticatedAt: Date | null;
}

/**
 * A live console session found by its cookie's credential: who, until when, and when the
 * password was last entered in it.
 */
export interface ConsoleSessionState {
  readonly sessionId: string;
  readonly userId: string;
  readonly expiresAt: Date;
  readonly reauthenticatedAt: Date | null;
}

/** Just enough of a session to answer "may this access token be used?". */
export interface SessionStatus {
  readonly userId: string;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
}

export function isSessionActive(status: SessionStatus, now: Date): boolean {
  return status.revokedAt === null && status.expiresAt.getTime() > now.getTime();
}

/** What is known about a refresh token that could not be used, to name the reason. */
export interface RefreshTokenState {
  readonly tokenId: string;
  readonly sessionId: string;
  readonly userId: string;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
  readonly sessionRevokedAt: Date | null;
  readonly sessionExpiresAt: Date;
  /** Set when the token was rotated away (as opposed to revoked with its session). */
  readonly rotatedAt: Date | null;
  readonly rotatedIpAddress: string | null;
  readonly rotatedUserAgent: string | null;
  /** Whether the token that replaced it is still the session's live token. */
  readonly hasLiveChild: boolean;
  readonly sessionKind: SessionKind;
}
