import { Inject, Injectable } from '@nestjs/common';
import { isUuid } from '../../domain/identifiers';
import { ConsoleSessionState, SessionRecord, UserRecord } from '../../domain/records';
import { hashRefreshToken, REFRESH_TOKEN_PATTERN } from '../../domain/refresh-token';
import { normalizeEmail } from '../../domain/session-rules';
import { AUDIT_LOG, AuditEntry, AuditFilter, AuditLog, AuditPage, AuditQuery } from '../ports/audit-log.port';
import { CACHE_MARKER_OUTBOX, CacheMarkerOutbox } from '../ports/cache-marker-outbox.port';
import { AuditActions } from '../../domain/audit-action';
import { CLOCK, Clock } from '../ports/clock.port';
import { CurrentLoginLock, LOGIN_LOCKOUTS, LoginLockouts } from '../ports/login-lockouts.port';
import { SESSION_RECORDS, SessionRecords } from '../ports/session-records.port';
import { USER_ACCOUNTS, UserAccounts, UserListing, UserPosition, UserStatus } from '../ports/user-accounts.port';

/** Entries a page of SessionDirectory.auditPages reads: one indexed range read of a few hundred rows. */
export const AUDIT_EXPORT_PAGE_SIZE = 500;

/** A user as the directory hands it out: never the password hash. */
export type UserSummary = Omit<UserRecord, 'passwordHash'>;

/** A user as the console lists it: account, access controls, lockout and sessions. */
export interface UserDirectoryEntry extends UserListing {
  readonly status: UserStatus;
  /** When the newest session was opened, or null. */
  readonly lastLoginAt: Date | null;
  readonly activeSessions: number;
}

export interface UserDirectoryQuery {
  /** An exact user id (a UUID), or an email prefix compared case-insensitively. */
  readonly query?: string;
  readonly status?: UserStatus;
  readonly limit: number;
  /** The `next` of the previous page. */
  readonly after?: UserPosition;
}

export interface UserDirectoryPage {
  readonly users: UserDirectoryEntry[];
  /** Where the next page starts; null on the last. */
  readonly next: UserPosition | null;
}

/** The console's overview figures. */
export interface DirectoryOverview {
  readonly generatedAt: Date;
  readonly activeSessions: number;
  readonly last24h: { readonly signIns: number; readonly failedSignIns: number; readonly revocations: number };
  readonly lockouts: { readonly current: number; readonly users: CurrentLoginLock[] };
  /** See queuedCacheMarkers. */
  readonly queuedCacheMarkers: number;
}

/** How many of the current lockouts the overview names. */
export const OVERVIEW_LOCKOUTS_LISTED = 20;
const DAY_MS = 24 * 3_600_000;

/** Reads for the HTTP layers and other modules: nothing here changes state, so nothing here is audited as a command. */
@Injectable()
export class SessionDirectory {
  constructor(
    @Inject(USER_ACCOUNTS) private readonly users: UserAccounts,
    @Inject(SESSION_RECORDS) private readonly sessions: SessionRecords,
    @Inject(AUDIT_LOG) private readonly auditLog: AuditLog,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CACHE_MARKER_OUTBOX) private readonly outbox: CacheMarkerOutbox,
    @Inject(LOGIN_LOCKOUTS) private readonly lockouts: LoginLockouts,
  ) {}

  /**
   * Users ordered by email, a page at a time (keyset on (email, id): a page never skips or
   * repeats a user however the table changes between pages). A query that is a UUID is an id;
   * anything else an email prefix, normalized as stored emails are (NFKC, lower case), its `%`,
   * `_` and `\` literal.
   */
  async searchUsers(query: UserDirectoryQuery): Promise<UserDirectoryPage> {
    const text: string = query.query?.trim() ?? '';
    const match = text === '' ? {} : isUuid(text) ? { id: text.toLowerCase() } : { emailPrefix: emailPrefixOf(text) };
    // One more than asked: whether there is a next page, without a count.
    const listings = await this.users.search({ ...match, status: query.status, after: query.after, limit: query.limit + 1, now: this.clock.now() });
    const page = listings.slice(0, query.limit);
    const last = page[page.length - 1];
    return { users: await this.withActivity(page), next: listings.length > query.limit ? { email: last.email, id: last.id } : null };
  }

  /** null for an unknown id, or one that is not a UUID. */
  async describeUser(userId: string): Promise<UserDirectoryEntry | null> {
    if (!isUuid(userId)) return null;
    const [listing] = await this.users.search({ id: userId, limit: 1, now: this.clock.now() });
    return listing ? (await this.withActivity([listing]))[0] : null;
  }

  /** The console's overview: sessions live now, sign-ins and revocations of the last 24 h, lockouts in force. */
  async overview(): Promise<DirectoryOverview> {
    const now = this.clock.now();
    const since = new Date(now.getTime() - DAY_MS);
    const [activeSessions, logins, revocations, lockouts, queuedCacheMarkers] = await Promise.all([
      this.sessions.countActive(now),
      this.auditLog.countOutcomes(AuditActions.login, since),
      this.sessions.countRevokedSince(since),
      this.lockouts.current(now, OVERVIEW_LOCKOUTS_LISTED),
      this.outbox.depth(),
    ]);
    return {
      generatedAt: now,
      activeSessions,
      last24h: { signIns: logins.succeeded, failedSignIns: logins.failed, revocations },
      lockouts: { current: lockouts.total, users: lockouts.locks },
      queuedCacheMarkers,
    };
  }

  /**
   * Revocation markers committed and not yet written to a session cache, every namespace: they
   * wait for a cache that was unreachable (or for another deployment's instances). Growing means
   * a cache is not being repaired.
   */
  queuedCacheMarkers(): Promise<number> {
    return this.outbox.depth();
  }

  /** null for an id that is not a UUID, too: no account has one (and PostgreSQL would refuse it with a driver error). */
  async findUser(userId: string): Promise<UserSummary | null> {
    if (!isUuid(userId)) return null;
    return summary(await this.users.findById(userId));
  }

  /** The account with this email, compared as register and login compare it (normalized). */
  async findUserByEmail(email: string): Promise<UserSummary | null> {
    return summary(await this.users.findByEmail(normalizeEmail(email)));
  }

  /** Whether any account has the admin role. */
  adminExists(): Promise<boolean> {
    return this.users.adminExists();
  }

  /**
   * Whether this refresh token belongs to a session that is still live (the token itself may
   * have been rotated away): a logout with it would end something. False for anything else.
   */
  async refreshTokenSessionIsLive(refreshToken: string): Promise<boolean> {
    if (!REFRESH_TOKEN_PATTERN.test(refreshToken)) return false;
    const state = await this.sessions.describeRefreshToken(hashRefreshToken(refreshToken));
    return state !== null && state.sessionRevokedAt === null && state.sessionExpiresAt > this.clock.now();
  }

  /**
   * The live admin console session of a cookie's credential, read from PostgreSQL (never the
   * cache): a session revoked a moment ago, on any instance, is refused at once. null otherwise.
   */
  async findConsoleSession(credential: string): Promise<ConsoleSessionState | null> {
    if (!REFRESH_TOKEN_PATTERN.test(credential)) return null;
    return this.sessions.findConsoleSession(hashRefreshToken(credential), this.clock.now());
  }

  /** Newest first; active ones only unless includeRevoked (which also includes expired ones). */
  async listSessions(userId: string, includeRevoked = false): Promise<SessionRecord[]> {
    if (!isUuid(userId)) return [];
    return this.sessions.list(userId, { includeRevoked, now: this.clock.now() });
  }

  async findSession(sessionId: string): Promise<SessionRecord | null> {
    if (!isUuid(sessionId)) return null;
    return this.sessions.find(sessionId);
  }

  queryAudit(query: AuditQuery): Promise<AuditPage> {
    return this.auditLog.query(query);
  }

  /**
   * Every entry the filter matches, newest first, a page at a time: the pages of queryAudit,
   * each cursor the last id of the page before, so the entries and their order are the paged
   * ones. Each page is its own short statement (no transaction, no cursor held open between
   * them), so no statement timeout bounds the whole, and a page is asked for only when the
   * caller pulls the next one: a slow reader holds one page in memory, not the trail.
   */
  async *auditPages(filter: AuditFilter, pageSize = AUDIT_EXPORT_PAGE_SIZE): AsyncGenerator<AuditEntry[], void, undefined> {
    let before: string | undefined;
    do {
      const page = await this.auditLog.query({ ...filter, limit: pageSize, before });
      if (page.entries.length > 0) yield page.entries;
      before = page.nextCursor ?? undefined;
    } while (before);
  }

  /** The page's sessions in one statement, not one per user. */
  private async withActivity(listings: UserListing[]): Promise<UserDirectoryEntry[]> {
    const activity = await this.sessions.activityOf(
      listings.map((listing) => listing.id),
      this.clock.now(),
    );
    return listings.map((listing, i) => ({
      ...listing,
      status: listing.disabled ? 'disabled' : listing.lockedUntil ? 'locked' : 'active',
      lastLoginAt: activity[i].lastLoginAt,
      activeSessions: activity[i].activeSessions,
    }));
  }
}

/** As normalizeEmail folds a stored address, minus the domain's IDNA form, which a prefix may be cut in the middle of. */
function emailPrefixOf(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

function summary(user: UserRecord | null): UserSummary | null {
  if (!user) return null;
  const { passwordHash: _passwordHash, ...rest } = user;
  return rest;
}
