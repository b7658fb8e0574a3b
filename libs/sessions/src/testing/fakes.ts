import { EventBus, IEvent } from '@nestjs/cqrs';
import { AuditEntry, AuditOutcomeUnavailableError } from '../application/ports/audit-log.port';
import { Clock } from '../application/ports/clock.port';
import { CacheProbe, CachedSessionState, SessionCache } from '../application/ports/session-cache.port';
import {
  CacheMarkerTarget,
  CredentialCheck,
  FirstAdminInsert,
  ListSessionsOptions,
  NewRefreshToken,
  NewSession,
  NewUser,
  RevocationStamp,
  RevokedSessionRef,
  RoleChange,
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
  constructor(readonly namespace = 'fake') {}
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
  /** What probe() reports; tests change it to play a replaced dataset. */
  serverId: string | null = 'fake-server';
  epoch = 0;
  async probe(): Promise<CacheProbe> {
    this.epoch += 1;
    return { serverId: this.serverId, epoch: this.epoch };
  }
  private readonly connectionListeners: Array<(reason: string) => void> = [];
  onConnectionLost(listener: (reason: string) => void) {
    this.connectionListeners.push(listener);
  }
  /** Plays the client's 'error' / 'reconnecting' event. */
  loseConnection(reason = 'connection lost') {
    for (const listener of this.connectionListeners) listener(reason);
  }
}

export interface QueuedMarker extends RevokedSessionRef {
  readonly namespace: string;
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
/** The access controls of a user (users.disabled_at and the password reset columns). */
export interface UserAccess {
  disabledAt?: Date | null;
  resetRequiredAt?: Date | null;
  resetTokenHash?: Buffer | null;
  resetExpiresAt?: Date | null;
}

export class InMemorySessionStore implements SessionStore {
  users = new Map<string, UserRecord>();
  access = new Map<string, UserAccess>();
  sessions = new Map<string, SessionRecord>();
  tokens: TokenRow[] = [];
  audit: AuditEntry[] = [];
  failNext: Error | null = null;

  async inTransaction<T>(work: (tx: SessionTransaction) => Promise<T>): Promise<T> {
    const draft = new InMemorySessionStore();
    draft.users = new Map(this.users);
    draft.access = new Map(this.access);
    draft.sessions = new Map([...this.sessions].map(([k, v]) => [k, { ...v }]));
    draft.tokens = this.tokens.map((t) => ({ ...t }));
    draft.audit = [...this.audit];
    draft.outbox = [...this.outbox];
    const commitHooks: Array<() => void | Promise<void>> = [];
    const rollbackHooks: Array<(error: unknown) => void> = [];
    const tx = new InMemoryTransaction(draft, this, commitHooks, rollbackHooks);
    try {
      const result = await work(tx);
      Object.assign(this, { users: draft.users, access: draft.access, sessions: draft.sessions, tokens: draft.tokens, audit: draft.audit, outbox: draft.outbox });
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
  async adminExists() {
    return [...this.users.values()].some((u) => u.role === 'admin');
  }
  async findSessionStatus(sessionId: string): Promise<SessionStatus | null> {
    return this.sessions.get(sessionId) ?? null;
  }
  /** As the port says: newest first, and without includeRevoked only active sessions. */
  async listSessions(userId: string, options: ListSessionsOptions) {
    return [...this.sessions.values()]
      .filter((s) => s.userId === userId && (options.includeRevoked || (s.revokedAt === null && s.expiresAt > options.now)))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
  }
  async findSession(sessionId: string) {
    return this.sessions.get(sessionId) ?? null;
  }
  async sessionAddressesSince(userId: string, since: Date): Promise<string[]> {
    const sessions = [...this.sessions.values()].filter((s) => s.userId === userId && s.createdAt >= since && s.ipAddress !== null);
    return [...new Set(sessions.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).map((s) => s.ipAddress as string))].slice(0, 100);
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
  outbox: QueuedMarker[] = [];
  /** Cache namespace -> when last seen (milliseconds). */
  namespaces = new Map<string, number>();
  now: () => number = Date.now;
  async drainCacheMarkers(namespace: string, limit: number, write: (markers: RevokedSessionRef[]) => Promise<void>) {
    const batch = this.outbox.filter((marker) => marker.namespace === namespace).slice(0, limit);
    if (batch.length === 0) return 0;
    await write(batch.map(({ userId, sessionId }) => ({ userId, sessionId })));
    this.outbox = this.outbox.filter((marker) => !batch.includes(marker));
    return batch.length;
  }
  private readonly markerListeners = new Set<{ namespace: string; onQueued: () => void }>();
  listenForCacheMarkers(namespace: string, onQueued: () => void) {
    const listener = { namespace, onQueued };
    this.markerListeners.add(listener);
    onQueued();
    return { close: async () => void this.markerListeners.delete(listener) };
  }
  /** As NOTIFY does: after the commit that queued them. */
  notifyQueued(namespaces: Iterable<string>) {
    const queued = new Set(namespaces);
    for (const listener of this.markerListeners) if (queued.has(listener.namespace)) listener.onQueued();
  }
  async registerCacheNamespace(namespace: string, liveWithinSeconds: number): Promise<'live' | 'registered'> {
    const seen = this.namespaces.get(namespace);
    this.namespaces.set(namespace, this.now());
    return seen !== undefined && seen > this.now() - liveWithinSeconds * 1000 ? 'live' : 'registered';
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
  async insertFirstAdmin(user: NewUser): Promise<FirstAdminInsert> {
    this.origin.takeFailure();
    const taken = [...this.draft.users.values()].find((u) => u.email === user.email);
    if (taken) return { kind: 'email_taken', userId: taken.id, role: taken.role };
    if ([...this.draft.users.values()].some((u) => u.role === 'admin')) return { kind: 'admin_exists' };
    this.draft.users.set(user.id, user);
    return { kind: 'inserted' };
  }
  async setUserRole(userId: string, role: UserRole): Promise<RoleChange> {
    this.origin.takeFailure();
    const user = this.draft.users.get(userId);
    if (!user) return { kind: 'user_not_found' };
    const admins = [...this.draft.users.values()].filter((u) => u.role === 'admin').length;
    if (user.role === 'admin' && role !== 'admin' && admins === 1) return { kind: 'last_admin' };
    this.draft.users.set(userId, { ...user, role });
    return { kind: 'set', previousRole: user.role };
  }
  async lockVerifiedCredentials(userId: string, verifiedHash: string): Promise<CredentialCheck> {
    this.origin.takeFailure();
    const user = this.draft.users.get(userId);
    if (!user) return 'user_not_found';
    const access = this.draft.access.get(userId);
    if (access?.disabledAt) return 'disabled';
    if (access?.resetRequiredAt) return 'reset_required';
    return user.passwordHash === verifiedHash ? 'current' : 'changed';
  }
  async setUserDisabled(userId: string, disabledAt: Date | null) {
    this.origin.takeFailure();
    if (!this.draft.users.has(userId)) return false;
    const access = this.draft.access.get(userId) ?? {};
    this.draft.access.set(userId, { ...access, disabledAt: disabledAt === null ? null : (access.disabledAt ?? disabledAt) });
    return true;
  }
  async requirePasswordReset(userId: string, tokenHash: Buffer, at: Date, expiresAt: Date) {
    this.origin.takeFailure();
    if (!this.draft.users.has(userId)) return false;
    const access = this.draft.access.get(userId) ?? {};
    this.draft.access.set(userId, { ...access, resetRequiredAt: access.resetRequiredAt ?? at, resetTokenHash: tokenHash, resetExpiresAt: expiresAt });
    return true;
  }
  async redeemPasswordReset(tokenHash: Buffer, newHash: string, now: Date) {
    this.origin.takeFailure();
    const entry = [...this.draft.access].find(([, a]) => a.resetTokenHash?.equals(tokenHash) && a.resetExpiresAt! > now);
    if (!entry) return null;
    const [userId, access] = entry;
    this.draft.access.set(userId, { ...access, resetRequiredAt: null, resetTokenHash: null, resetExpiresAt: null });
    this.draft.users.set(userId, { ...this.draft.users.get(userId)!, passwordHash: newHash });
    return userId;
  }
  async replacePasswordHash(userId: string, expectedHash: string, newHash: string) {
    this.origin.takeFailure();
    const user = this.draft.users.get(userId);
    if (!user || user.passwordHash !== expectedHash) return false;
    this.draft.users.set(userId, { ...user, passwordHash: newHash });
    return true;
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
  async enqueueCacheMarkers(userId: string, sessionIds: readonly string[], target: CacheMarkerTarget) {
    this.origin.takeFailure();
    const since = this.origin.now() - target.liveWithinSeconds * 1000;
    const namespaces = new Set([...this.origin.namespaces].filter(([, seen]) => seen > since).map(([namespace]) => namespace));
    if (target.includeOwn) namespaces.add(target.own);
    else namespaces.delete(target.own);
    for (const namespace of namespaces) this.draft.outbox.push(...sessionIds.map((sessionId) => ({ namespace, userId, sessionId })));
    this.afterCommit(() => this.origin.notifyQueued(namespaces));
    return namespaces.size;
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
