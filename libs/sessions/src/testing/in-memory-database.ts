import type { RevocationFeedEntry } from '../application/ports/revocation-feed.port';
import { AsyncLocalStorage } from 'node:async_hooks';
import { AuditEntry } from '../application/ports/audit-log.port';
import { RevokedSessionRef } from '../application/ports/revoked-sessions.port';
import { NewRefreshToken } from '../application/ports/session-records.port';
import { SessionRecord, UserRecord, UserRole } from '../domain/records';

export interface QueuedMarker extends RevokedSessionRef {
  readonly namespace: string;
}

export interface TokenRow extends NewRefreshToken {
  revokedAt: Date | null;
  rotatedAt: Date | null;
  rotatedIpAddress: string | null;
  rotatedUserAgent: string | null;
}

/** The access controls of a user (users.disabled_at and the password reset columns). */
export interface UserAccess {
  disabledAt?: Date | null;
  resetRequiredAt?: Date | null;
  resetTokenHash?: Buffer | null;
  resetExpiresAt?: Date | null;
}

/** A row of login_lockouts. */
export interface LockoutRow {
  readonly email: string;
  readonly network: string;
  readonly userId: string | null;
  readonly failedAttempts: number;
  readonly lockedAt: Date;
  readonly lockedUntil: Date;
  readonly clearedAt: Date | null;
  readonly clearedBy: string | null;
}

/** What a transaction changes: a copy of the committed tables (the outbox: only the rows it adds). */
export interface Tables {
  users: Map<string, UserRecord>;
  access: Map<string, UserAccess>;
  sessions: Map<string, SessionRecord>;
  tokens: TokenRow[];
  audit: AuditEntry[];
  outbox: QueuedMarker[];
  /** The revocation feed, in commit order (only the rows a transaction adds, like the outbox). */
  feed: RevocationFeedEntry[];
  /** Keyed by email and network (see lockoutKey). */
  lockouts: Map<string, LockoutRow>;
}

export const lockoutKey = (email: string, network: string) => `${email}\n${network}`;

/** An open transaction of the in-memory unit of work, in the async context that opened it. */
export interface OpenDraft {
  readonly tables: Tables;
  finished: boolean;
}

/**
 * The tables behind the in-memory fakes of the ports. The getters give the committed state, to
 * arrange and to assert on; `failNext` makes the next write of any port throw.
 */
export class InMemoryDatabase {
  committed: Tables = { users: new Map(), access: new Map(), sessions: new Map(), tokens: [], audit: [], outbox: [], feed: [], lockouts: new Map() };
  /** Cache namespace -> when last seen (milliseconds); written outside transactions, like the real table. */
  namespaces = new Map<string, number>();
  failNext: Error | null = null;
  now: () => number = Date.now;
  /** How many transactions committed. */
  commits = 0;
  readonly open = new AsyncLocalStorage<OpenDraft>();

  get users() {
    return this.committed.users;
  }
  get access() {
    return this.committed.access;
  }
  get sessions() {
    return this.committed.sessions;
  }
  get tokens() {
    return this.committed.tokens;
  }
  get audit() {
    return this.committed.audit;
  }
  get lockouts() {
    return this.committed.lockouts;
  }
  get outbox() {
    return this.committed.outbox;
  }
  set outbox(rows: QueuedMarker[]) {
    this.committed.outbox = rows;
  }

  /** The draft of the transaction open in this async context (reads join it, as they do in PostgreSQL), or the committed tables. */
  tables(): Tables {
    const open = this.open.getStore();
    return open && !open.finished ? open.tables : this.committed;
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
    this.sessions.set(id, {
      id,
      userId,
      createdAt: new Date(),
      lastSeenAt: new Date(),
      expiresAt,
      ipAddress: null,
      userAgent: null,
      revokedAt: null,
      revokedReason: null,
      revokedBy: null,
      kind: 'app',
      reauthenticatedAt: null,
    });
    this.tokens.push({
      id: `t-${id}`,
      sessionId: id,
      userId,
      tokenHash,
      issuedAt: new Date(),
      expiresAt,
      parentId: null,
      revokedAt: null,
      rotatedAt: null,
      rotatedIpAddress: null,
      rotatedUserAgent: null,
    });
  }

  /** A private copy for a transaction: applied all at once on commit, dropped on rollback. */
  draft(): Tables {
    const c = this.committed;
    return {
      users: new Map(c.users),
      access: new Map(c.access),
      sessions: new Map([...c.sessions].map(([k, v]) => [k, { ...v }])),
      tokens: c.tokens.map((t) => ({ ...t })),
      audit: [...c.audit],
      outbox: [],
      feed: [],
      lockouts: new Map(c.lockouts),
    };
  }

  commit(draft: Tables): void {
    const outbox = [...this.committed.outbox, ...draft.outbox];
    const feed = [...this.committed.feed, ...draft.feed];
    this.committed = { ...draft, outbox, feed };
    this.commits += 1;
  }

  private readonly markerListeners = new Set<{ namespace: string; onQueued: () => void }>();
  listen(namespace: string, onQueued: () => void): { close(): Promise<void> } {
    const listener = { namespace, onQueued };
    this.markerListeners.add(listener);
    onQueued();
    return { close: async () => void this.markerListeners.delete(listener) };
  }
  /** As NOTIFY does: after the commit that queued them. */
  notifyQueued(namespaces: Iterable<string>): void {
    const queued = new Set(namespaces);
    for (const listener of this.markerListeners) if (queued.has(listener.namespace)) listener.onQueued();
  }
}
