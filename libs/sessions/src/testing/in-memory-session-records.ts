import {
  ListSessionsOptions,
  NewRefreshToken,
  NewSession,
  RevocationStamp,
  RotatedToken,
  RotationContext,
  SessionRecordWrites,
  UserSessionActivity,
} from '../application/ports/session-records.port';
import { ConsoleSessionState, isSessionActive, RefreshTokenState, SessionRecord, SessionStatus } from '../domain/records';
import { InMemoryDatabase, Tables } from './in-memory-database';

/** SessionRecords over an InMemoryDatabase: its reads and, inside a unit of work, its writes. */
export class InMemorySessionRecords implements SessionRecordWrites {
  constructor(
    private readonly db: InMemoryDatabase,
    private readonly tables: () => Tables = () => db.tables(),
  ) {}

  async findStatus(sessionId: string): Promise<SessionStatus | null> {
    return this.tables().sessions.get(sessionId) ?? null;
  }
  async find(sessionId: string): Promise<SessionRecord | null> {
    return this.tables().sessions.get(sessionId) ?? null;
  }
  async list(userId: string, options: ListSessionsOptions): Promise<SessionRecord[]> {
    return [...this.tables().sessions.values()]
      .filter((s) => s.userId === userId && (options.includeRevoked || isSessionActive(s, options.now)))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
  }
  async addressesSince(userId: string, since: Date): Promise<string[]> {
    const sessions = [...this.tables().sessions.values()].filter((s) => s.userId === userId && s.createdAt >= since && s.ipAddress !== null);
    return [...new Set(sessions.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).map((s) => s.ipAddress as string))].slice(0, 100);
  }
  async activityOf(userIds: readonly string[], now: Date): Promise<UserSessionActivity[]> {
    const sessions = [...this.tables().sessions.values()];
    return userIds.map((userId) => {
      const own = sessions.filter((s) => s.userId === userId);
      const newest = own.reduce<Date | null>((latest, s) => (latest === null || s.createdAt > latest ? s.createdAt : latest), null);
      return { userId, lastLoginAt: newest, activeSessions: own.filter((s) => isSessionActive(s, now)).length };
    });
  }
  async countActive(now: Date): Promise<number> {
    return [...this.tables().sessions.values()].filter((s) => isSessionActive(s, now)).length;
  }
  async countRevokedSince(since: Date): Promise<number> {
    return [...this.tables().sessions.values()].filter((s) => s.revokedAt !== null && s.revokedAt >= since).length;
  }
  async describeRefreshToken(tokenHash: Buffer): Promise<RefreshTokenState | null> {
    const { tokens, sessions } = this.tables();
    const token = tokens.find((t) => t.tokenHash.equals(tokenHash));
    if (!token) return null;
    const session = sessions.get(token.sessionId)!;
    return {
      tokenId: token.id,
      sessionId: token.sessionId,
      userId: token.userId,
      expiresAt: token.expiresAt,
      revokedAt: token.revokedAt,
      sessionRevokedAt: session.revokedAt,
      sessionExpiresAt: session.expiresAt,
      rotatedAt: token.rotatedAt,
      rotatedIpAddress: token.rotatedIpAddress,
      rotatedUserAgent: token.rotatedUserAgent,
      hasLiveChild: tokens.some((t) => t.parentId === token.id && t.revokedAt === null),
      sessionKind: session.kind,
    };
  }
  async findConsoleSession(tokenHash: Buffer, now: Date): Promise<ConsoleSessionState | null> {
    const { tokens, sessions } = this.tables();
    const token = tokens.find((t) => t.tokenHash.equals(tokenHash) && t.revokedAt === null && t.expiresAt > now);
    const session = token && sessions.get(token.sessionId);
    if (!session || session.kind !== 'console' || !isSessionActive(session, now)) return null;
    return { sessionId: session.id, userId: session.userId, expiresAt: session.expiresAt, reauthenticatedAt: session.reauthenticatedAt };
  }

  async insert(session: NewSession): Promise<void> {
    this.db.takeFailure();
    this.tables().sessions.set(session.id, {
      ...session,
      lastSeenAt: session.createdAt,
      revokedAt: null,
      revokedReason: null,
      revokedBy: null,
      kind: session.kind ?? 'app',
      reauthenticatedAt: session.reauthenticatedAt ?? null,
    });
  }
  async insertRefreshToken(token: NewRefreshToken): Promise<void> {
    this.db.takeFailure();
    this.tables().tokens.push({ ...token, revokedAt: null, rotatedAt: null, rotatedIpAddress: null, rotatedUserAgent: null });
  }
  async consumeRefreshToken(tokenHash: Buffer, now: Date, context: RotationContext): Promise<RotatedToken | null> {
    this.db.takeFailure();
    const { tokens, sessions } = this.tables();
    const token = tokens.find((t) => t.tokenHash.equals(tokenHash) && t.revokedAt === null && t.expiresAt > now);
    const session = token && sessions.get(token.sessionId);
    if (!token || !session || session.kind !== 'app' || session.revokedAt !== null || session.expiresAt <= now) return null;
    Object.assign(token, { revokedAt: now, rotatedAt: now, rotatedIpAddress: context.ipAddress, rotatedUserAgent: context.userAgent });
    sessions.set(session.id, { ...session, lastSeenAt: now });
    return { tokenId: token.id, sessionId: token.sessionId, userId: token.userId };
  }
  async touchActive(sessionId: string, now: Date): Promise<boolean> {
    this.db.takeFailure();
    const session = this.tables().sessions.get(sessionId);
    return !!session && session.revokedAt === null && session.expiresAt > now;
  }
  async retireLiveRefreshTokens(sessionId: string, now: Date, context: RotationContext): Promise<number> {
    this.db.takeFailure();
    const live = this.tables().tokens.filter((t) => t.sessionId === sessionId && t.revokedAt === null);
    for (const token of live)
      Object.assign(token, { revokedAt: now, rotatedAt: now, rotatedIpAddress: context.ipAddress, rotatedUserAgent: context.userAgent });
    return live.length;
  }
  async revokeByRefreshToken(tokenHash: Buffer, userId: string | null, stamp: RevocationStamp): Promise<{ sessionId: string; userId: string } | null> {
    this.db.takeFailure();
    const { tokens, sessions } = this.tables();
    const token = tokens.find((t) => t.tokenHash.equals(tokenHash) && (t.revokedAt === null || t.rotatedAt !== null));
    const session = token && sessions.get(token.sessionId);
    if (!token || !session || session.revokedAt !== null || (userId !== null && session.userId !== userId)) return null;
    this.end([session.id], stamp);
    return { sessionId: session.id, userId: session.userId };
  }
  async revoke(userId: string | null, sessionId: string, stamp: RevocationStamp): Promise<string | null> {
    this.db.takeFailure();
    const session = this.tables().sessions.get(sessionId);
    if (!session || (userId !== null && session.userId !== userId) || session.revokedAt !== null || session.expiresAt <= stamp.at) return null;
    this.end([sessionId], stamp);
    return session.userId;
  }
  async revokeAll(userId: string, exceptSessionId: string | null, stamp: RevocationStamp): Promise<string[]> {
    this.db.takeFailure();
    const ids = [...this.tables().sessions.values()]
      .filter((s) => s.userId === userId && s.revokedAt === null && s.id !== exceptSessionId && s.expiresAt > stamp.at)
      .map((s) => s.id);
    this.end(ids, stamp);
    return ids;
  }

  async lockLiveWebSessions(userId: string, now: Date): Promise<string[]> {
    this.db.takeFailure();
    return [...this.tables().sessions.values()]
      .filter((s) => s.userId === userId && s.kind === 'app' && isSessionActive(s, now))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((s) => s.id);
  }

  async markReauthenticated(userId: string, sessionId: string, at: Date): Promise<boolean> {
    this.db.takeFailure();
    const session = this.tables().sessions.get(sessionId);
    if (!session || session.userId !== userId || !isSessionActive(session, at)) return false;
    this.tables().sessions.set(sessionId, { ...session, reauthenticatedAt: at });
    return true;
  }

  private end(sessionIds: readonly string[], stamp: RevocationStamp): void {
    const { sessions, tokens } = this.tables();
    for (const id of sessionIds) {
      const session = sessions.get(id)!;
      sessions.set(id, { ...session, revokedAt: stamp.at, revokedReason: stamp.reason, revokedBy: stamp.revokedBy });
      for (const token of tokens) if (token.sessionId === id && token.revokedAt === null) token.revokedAt = stamp.at;
    }
  }
}
