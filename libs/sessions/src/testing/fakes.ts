import { EventBus, IEvent } from '@nestjs/cqrs';
import { AuditEntry, AuditOutcomeUnavailableError } from '../application/ports/audit-log.port';
import { Clock } from '../application/ports/clock.port';
import { CachedSessionState, SessionCache } from '../application/ports/session-cache.port';
import {
  NewRefreshToken,
  NewSession,
  NewUser,
  RevocationStamp,
  RevokedSessionRef,
  RotatedToken,
  SessionStore,
  SessionTransaction,
} from '../application/ports/session-store.port';
import { AuditableEvent } from '../application/shared/auditable-event';
import { RefreshTokenState, SessionRecord, SessionStatus, UserRecord, UserRole } from '../domain/records';

/** Fakes of the ports for unit tests; anything touching SQL or Redis is tested against the real servers. */

export class FixedClock implements Clock {
  constructor(public current = new Date('2026-11-23T12:00:00Z')) {}
  now(): Date {
    return new Date(this.current);
  }
}

/** Collects published events in order, instead of dispatching them. */
export class RecordingEventBus {
  readonly events: AuditableEvent[] = [];
  publish(event: IEvent): void {
    this.events.push(event as AuditableEvent);
  }
  asEventBus(): EventBus {
    return this as unknown as EventBus;
  }
  outcomes(): string[] {
    return this.events.map((e) => `${e.constructor.name}:${e.reason ?? ''}`);
  }
}

export class RecordingSessionCache implements SessionCache {
  readonly entries = new Map<string, CachedSessionState>();
  readonly description = 'fake';
  async get(userId: string, sessionId: string) {
    return this.entries.get(`${userId}:${sessionId}`) ?? null;
  }
  async rememberActive(userId: string, sessionId: string) {
    if (!this.entries.has(`${userId}:${sessionId}`)) this.entries.set(`${userId}:${sessionId}`, 'active');
  }
  async markRevoked(userId: string, sessionIds: readonly string[]) {
    for (const id of sessionIds) this.entries.set(`${userId}:${id}`, 'revoked');
  }
  async forget(userId: string, sessionIds: readonly string[]) {
    for (const id of sessionIds) this.entries.delete(`${userId}:${id}`);
  }
  async ping() {}
}

interface TokenRow extends NewRefreshToken {
  revokedAt: Date | null;
  rotatedAt: Date | null;
  rotatedIpAddress: string | null;
  rotatedUserAgent: string | null;
}

/**
 * Sessions and tokens in memory, with all-or-nothing transactions (writes are applied to a
 * copy that replaces the state on commit). `failNext` makes the next write throw.
 */
export class InMemorySessionStore implements SessionStore {
  users = new Map<string, UserRecord>();
  sessions = new Map<string, SessionRecord>();
  tokens: TokenRow[] = [];
  audit: AuditEntry[] = [];
  failNext: Error | null = null;

  async inTransaction<T>(work: (tx: SessionTransaction) => Promise<T>): Promise<T> {
    const draft = new InMemorySessionStore();
    draft.users = new Map(this.users);
    draft.sessions = new Map([...this.sessions].map(([k, v]) => [k, { ...v }]));
    draft.tokens = this.tokens.map((t) => ({ ...t }));
    draft.audit = [...this.audit];
    draft.outbox = [...this.outbox];
    const commitHooks: Array<() => void | Promise<void>> = [];
    const rollbackHooks: Array<(error: unknown) => void> = [];
    const tx = new InMemoryTransaction(draft, this, commitHooks, rollbackHooks);
    try {
      const result = await work(tx);
      Object.assign(this, { users: draft.users, sessions: draft.sessions, tokens: draft.tokens, audit: draft.audit, outbox: draft.outbox });
      for (const hook of commitHooks) await hook();
      return result;
    } catch (error) {
      for (const hook of rollbackHooks) hook(error);
      throw error;
    }
  }

  takeFailure(): void {
    const failure = this.failNext;
    this.failNext = null;
    if (failure) throw failure;
  }

  addUser(id: string, role: UserRole = 'user'): UserRecord {
    const user = { id, email: `${id}@example.com`, passwordHash: 'hash', role, createdAt: new Date() };
    this.users.set(id, user);
    return user;
  }

  addSession(userId: string, id: string, tokenHash: Buffer, expiresAt = new Date('2030-01-01')): void {
    if (!this.users.has(userId)) this.addUser(userId);
    this.sessions.set(id, { id, userId, createdAt: new Date(), lastSeenAt: new Date(), expiresAt, ipAddress: null, userAgent: null, revokedAt: null, revokedReason: null, revokedBy: null });
    this.tokens.push({ id: `t-${id}`, sessionId: id, userId, tokenHash, issuedAt: new Date(), expiresAt, parentId: null, revokedAt: null, rotatedAt: null, rotatedIpAddress: null, rotatedUserAgent: null });
  }

  async findUserByEmail(email: string) {
    return [...this.users.values()].find((u) => u.email === email) ?? null;
  }
  async findUserById(userId: string) {
    return this.users.get(userId) ?? null;
  }
  async findSessionStatus(sessionId: string): Promise<SessionStatus | null> {
    return this.sessions.get(sessionId) ?? null;
  }
  async listSessions(userId: string) {
    return [...this.sessions.values()].filter((s) => s.userId === userId);
  }
  async findSession(sessionId: string) {
    return this.sessions.get(sessionId) ?? null;
  }
  async describeRefreshToken(tokenHash: Buffer): Promise<RefreshTokenState | null> {
    const token = this.tokens.find((t) => t.tokenHash.equals(tokenHash));
    if (!token) return null;
    const session = this.sessions.get(token.sessionId)!;
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
      hasLiveChild: this.tokens.some((t) => t.parentId === token.id && t.revokedAt === null),
    };
  }
  outbox: RevokedSessionRef[] = [];
  async drainCacheMarkers(limit: number, write: (markers: RevokedSessionRef[]) => Promise<void>) {
    const batch = this.outbox.slice(0, limit);
    if (batch.length === 0) return 0;
    await write(batch);
    this.outbox.splice(0, batch.length);
    return batch.length;
  }
  async listRevokedSince(since: Date) {
    return [...this.sessions.values()].filter((s) => s.revokedAt !== null && s.revokedAt >= since).map((s) => ({ userId: s.userId, sessionId: s.id }));
  }
  async ping() {}
}

class InMemoryTransaction implements SessionTransaction {
  constructor(
    private readonly draft: InMemorySessionStore,
    private readonly origin: InMemorySessionStore,
    private readonly commitHooks: Array<() => void | Promise<void>>,
    private readonly rollbackHooks: Array<(error: unknown) => void>,
  ) {}

  async insertUser(user: NewUser) {
    this.origin.takeFailure();
    if ([...this.draft.users.values()].some((u) => u.email === user.email)) return false;
    this.draft.users.set(user.id, user);
    return true;
  }
  async setUserRole(userId: string, role: UserRole) {
    this.origin.takeFailure();
    this.draft.users.set(userId, { ...this.draft.users.get(userId)!, role });
  }
  async setPasswordHash(userId: string, passwordHash: string) {
    this.origin.takeFailure();
    this.draft.users.set(userId, { ...this.draft.users.get(userId)!, passwordHash });
  }
  async insertSession(session: NewSession) {
    this.origin.takeFailure();
    this.draft.sessions.set(session.id, { ...session, lastSeenAt: session.createdAt, revokedAt: null, revokedReason: null, revokedBy: null });
  }
  async insertRefreshToken(token: NewRefreshToken) {
    this.origin.takeFailure();
    this.draft.tokens.push({ ...token, revokedAt: null, rotatedAt: null, rotatedIpAddress: null, rotatedUserAgent: null });
  }
  async consumeRefreshToken(tokenHash: Buffer, now: Date, context: { ipAddress: string | null; userAgent: string | null }): Promise<RotatedToken | null> {
    this.origin.takeFailure();
    const token = this.draft.tokens.find((t) => t.tokenHash.equals(tokenHash) && t.revokedAt === null && t.expiresAt > now);
    const session = token && this.draft.sessions.get(token.sessionId);
    if (!token || !session || session.revokedAt !== null || session.expiresAt <= now) return null;
    Object.assign(token, { revokedAt: now, rotatedAt: now, rotatedIpAddress: context.ipAddress, rotatedUserAgent: context.userAgent });
    return { tokenId: token.id, sessionId: token.sessionId, userId: token.userId };
  }
  async touchActiveSession(sessionId: string, now: Date) {
    this.origin.takeFailure();
    const session = this.draft.sessions.get(sessionId);
    return !!session && session.revokedAt === null && session.expiresAt > now;
  }
  async retireLiveRefreshTokens(sessionId: string, now: Date, context: { ipAddress: string | null; userAgent: string | null }) {
    this.origin.takeFailure();
    const live = this.draft.tokens.filter((t) => t.sessionId === sessionId && t.revokedAt === null);
    for (const token of live) Object.assign(token, { revokedAt: now, rotatedAt: now, rotatedIpAddress: context.ipAddress, rotatedUserAgent: context.userAgent });
    return live.length;
  }
  async revokeSessionByRefreshToken(tokenHash: Buffer, userId: string | null, stamp: RevocationStamp) {
    this.origin.takeFailure();
    const token = this.draft.tokens.find((t) => t.tokenHash.equals(tokenHash) && (t.revokedAt === null || t.rotatedAt !== null));
    const session = token && this.draft.sessions.get(token.sessionId);
    if (!token || !session || session.revokedAt !== null || (userId !== null && session.userId !== userId)) return null;
    this.end([session.id], stamp);
    return { sessionId: session.id, userId: session.userId };
  }
  async revokeSession(userId: string | null, sessionId: string, stamp: RevocationStamp) {
    this.origin.takeFailure();
    const session = this.draft.sessions.get(sessionId);
    if (!session || (userId !== null && session.userId !== userId) || session.revokedAt !== null) return null;
    this.end([sessionId], stamp);
    return session.userId;
  }
  async userExists(userId: string) {
    this.origin.takeFailure();
    return this.draft.users.has(userId);
  }
  async revokeAllSessions(userId: string, exceptSessionId: string | null, stamp: RevocationStamp) {
    this.origin.takeFailure();
    const ids = [...this.draft.sessions.values()].filter((s) => s.userId === userId && s.revokedAt === null && s.id !== exceptSessionId && s.expiresAt > stamp.at).map((s) => s.id);
    this.end(ids, stamp);
    return ids;
  }
  async enqueueCacheMarkers(userId: string, sessionIds: readonly string[]) {
    this.origin.takeFailure();
    this.draft.outbox.push(...sessionIds.map((sessionId) => ({ userId, sessionId })));
  }
  async appendAudit(entries: readonly AuditEntry[]) {
    this.origin.takeFailure();
    for (const entry of entries) {
      const sameOperation = this.draft.audit.filter((e) => e.correlationId === entry.correlationId);
      if (entry.outcome === 'attempted' && sameOperation.some((e) => e.outcome === 'attempted')) continue;
      if (entry.outcome !== 'attempted' && sameOperation.some((e) => e.outcome !== 'attempted')) throw new AuditOutcomeUnavailableError(entry.correlationId);
      this.draft.audit.push(entry);
    }
  }
  afterCommit(callback: () => void | Promise<void>) {
    this.commitHooks.push(callback);
  }
  afterRollback(callback: (error: unknown) => void) {
    this.rollbackHooks.push(callback);
  }

  private end(sessionIds: string[], stamp: RevocationStamp) {
    for (const id of sessionIds) {
      const session = this.draft.sessions.get(id)!;
      this.draft.sessions.set(id, { ...session, revokedAt: stamp.at, revokedReason: stamp.reason, revokedBy: stamp.revokedBy });
      for (const token of this.draft.tokens) if (token.sessionId === id && token.revokedAt === null) token.revokedAt = stamp.at;
    }
  }
}
