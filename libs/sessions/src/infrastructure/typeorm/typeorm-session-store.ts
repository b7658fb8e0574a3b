import { Logger } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { DataSource, EntityManager } from 'typeorm';
import { AuditEntry } from '../../application/ports/audit-log.port';
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
} from '../../application/ports/session-store.port';
import { RefreshTokenState, SessionRecord, SessionStatus, UserRecord, UserRole } from '../../domain/records';
import { insertAuditEntries } from './audit-entry.sql';
import { DEFAULT_SESSIONS_SCHEMA } from './schema-name';
import { CacheMarkerListener } from './cache-marker-listener';
import {
  deleteCacheMarkersSql,
  deleteGoneCacheNamespacesSql,
  deleteStaleCacheMarkersSql,
  insertCacheMarkersSql,
  lockCacheNamespacesSql,
  selectLiveCacheNamespacesSql,
  selectQueuedCacheMarkersSql,
  touchLiveCacheNamespaceSql,
  upsertCacheNamespaceSql,
} from './cache-marker.sql';
import { consumeRefreshTokenSql, describeRefreshTokenSql, insertRefreshTokenSql, retireLiveRefreshTokensSql } from './refresh-token.sql';
import {
  insertSessionSql,
  listActiveSessionsSql,
  listRevokedSinceSql,
  listSessionsSql,
  PING_SQL,
  revokeAllSessionsSql,
  revokeSessionByRefreshTokenSql,
  revokeSessionSql,
  selectSessionSql,
  selectSessionStatusSql,
  sessionAddressesSinceSql,
  touchActiveSessionSql,
} from './session.sql';
import {
  ADMIN_BOOTSTRAP_LOCK_SQL,
  adminBootstrapLockKey,
  insertUserSql,
  lockRoleHoldersSql,
  lockVerifiedCredentialsSql,
  redeemPasswordResetSql,
  replacePasswordHashSql,
  requirePasswordResetSql,
  selectAnyAdminSql,
  selectUserByEmailSql,
  selectUserByIdSql,
  selectUserRoleByEmailSql,
  setUserDisabledSql,
  updateUserRoleSql,
  userExistsSql,
} from './user.sql';

interface OpenTransaction {
  readonly tx: TypeOrmSessionTransaction;
}

/** `manager.query` returns `[rows, count]` for UPDATE and DELETE, plain rows otherwise. */
async function rowsOf<T>(manager: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const raw = await manager.query(sql, params);
  return (Array.isArray(raw) && raw.length === 2 && Array.isArray(raw[0]) && typeof raw[1] === 'number' ? raw[0] : raw) as T[];
}

class TypeOrmSessionTransaction implements SessionTransaction {
  readonly commitHooks: Array<() => void | Promise<void>> = [];
  readonly rollbackHooks: Array<(error: unknown) => void> = [];

  constructor(
    private readonly manager: EntityManager,
    private readonly schema: string,
  ) {}

  async insertUser(user: NewUser): Promise<boolean> {
    const rows = await rowsOf(this.manager, insertUserSql(this.schema), [user.id, user.email, user.passwordHash, user.role, user.createdAt]);
    return rows.length === 1;
  }

  async insertFirstAdmin(user: NewUser): Promise<FirstAdminInsert> {
    // Instances starting together (even with different ADMIN_EMAILs) create at most one admin.
    await this.manager.query(ADMIN_BOOTSTRAP_LOCK_SQL, [adminBootstrapLockKey(this.schema)]);
    const taken = async () => {
      const rows = await rowsOf<{ id: string; role: UserRole }>(this.manager, selectUserRoleByEmailSql(this.schema), [user.email]);
      return rows[0] ? ({ kind: 'email_taken', userId: rows[0].id, role: rows[0].role } as const) : null;
    };
    const existing = await taken();
    if (existing) return existing;
    const admins = await rowsOf(this.manager, selectAnyAdminSql(this.schema), []);
    if (admins.length > 0) return { kind: 'admin_exists' };
    // A registration of the same address may commit between our read and this insert.
    if (await this.insertUser(user)) return { kind: 'inserted' };
    return (await taken()) ?? { kind: 'admin_exists' };
  }

  async setUserRole(userId: string, role: UserRole): Promise<RoleChange> {
    const rows = await rowsOf<{ id: string; role: UserRole }>(this.manager, lockRoleHoldersSql(this.schema), [userId]);
    const target = rows.find((row) => row.id === userId);
    if (!target) return { kind: 'user_not_found' };
    if (target.role === 'admin' && role !== 'admin' && rows.filter((row) => row.role === 'admin').length === 1) return { kind: 'last_admin' };
    await this.manager.query(updateUserRoleSql(this.schema), [userId, role]);
    return { kind: 'set', previousRole: target.role };
  }

  async lockVerifiedCredentials(userId: string, verifiedHash: string): Promise<CredentialCheck> {
    const rows = await rowsOf<{ current: boolean; disabled: boolean; reset_required: boolean }>(this.manager, lockVerifiedCredentialsSql(this.schema), [
      userId,
      verifiedHash,
    ]);
    const row = rows[0];
    if (!row) return 'user_not_found';
    if (row.disabled) return 'disabled';
    if (row.reset_required) return 'reset_required';
    return row.current ? 'current' : 'changed';
  }

  async replacePasswordHash(userId: string, expectedHash: string, newHash: string): Promise<boolean> {
    const rows = await rowsOf(this.manager, replacePasswordHashSql(this.schema), [userId, expectedHash, newHash]);
    return rows.length === 1;
  }

  async insertSession(session: NewSession): Promise<void> {
    await this.manager.query(insertSessionSql(this.schema), [session.id, session.userId, session.createdAt, session.expiresAt, session.ipAddress, session.userAgent]);
  }

  async insertRefreshToken(token: NewRefreshToken): Promise<void> {
    await this.manager.query(insertRefreshTokenSql(this.schema), [token.id, token.sessionId, token.userId, token.tokenHash, token.issuedAt, token.expiresAt, token.parentId]);
  }

  async consumeRefreshToken(tokenHash: Buffer, now: Date, context: { ipAddress: string | null; userAgent: string | null }): Promise<RotatedToken | null> {
    const rows = await rowsOf<{ id: string; session_id: string; user_id: string }>(this.manager, consumeRefreshTokenSql(this.schema), [
      tokenHash,
      now,
      context.ipAddress,
      context.userAgent,
    ]);
    return rows.length === 1 ? { tokenId: rows[0].id, sessionId: rows[0].session_id, userId: rows[0].user_id } : null;
  }

  async touchActiveSession(sessionId: string, now: Date): Promise<boolean> {
    const rows = await rowsOf<{ id: string }>(this.manager, touchActiveSessionSql(this.schema), [sessionId, now]);
    return rows.length === 1;
  }

  async retireLiveRefreshTokens(sessionId: string, now: Date, context: { ipAddress: string | null; userAgent: string | null }): Promise<number> {
    const rows = await rowsOf(this.manager, retireLiveRefreshTokensSql(this.schema), [sessionId, now, context.ipAddress, context.userAgent]);
    return rows.length;
  }

  async revokeSessionByRefreshToken(tokenHash: Buffer, userId: string | null, stamp: RevocationStamp): Promise<{ sessionId: string; userId: string } | null> {
    const rows = await rowsOf<{ id: string; user_id: string }>(this.manager, revokeSessionByRefreshTokenSql(this.schema), [
      tokenHash,
      userId,
      stamp.at,
      stamp.reason,
      stamp.revokedBy,
    ]);
    return rows.length === 1 ? { sessionId: rows[0].id, userId: rows[0].user_id } : null;
  }

  async revokeSession(userId: string | null, sessionId: string, stamp: RevocationStamp): Promise<string | null> {
    const rows = await rowsOf<{ user_id: string }>(this.manager, revokeSessionSql(this.schema), [userId, sessionId, stamp.at, stamp.reason, stamp.revokedBy]);
    return rows.length === 1 ? rows[0].user_id : null;
  }

  async userExists(userId: string): Promise<boolean> {
    const rows = await rowsOf(this.manager, userExistsSql(this.schema), [userId]);
    return rows.length === 1;
  }

  async revokeAllSessions(userId: string, exceptSessionId: string | null, stamp: RevocationStamp): Promise<string[]> {
    const rows = await rowsOf<{ id: string }>(this.manager, revokeAllSessionsSql(this.schema), [userId, exceptSessionId, stamp.at, stamp.reason, stamp.revokedBy]);
    return rows.map((row) => row.id);
  }

  async setUserDisabled(userId: string, disabledAt: Date | null): Promise<boolean> {
    const rows = await rowsOf(this.manager, setUserDisabledSql(this.schema), [userId, disabledAt]);
    return rows.length === 1;
  }

  async requirePasswordReset(userId: string, tokenHash: Buffer, at: Date, expiresAt: Date): Promise<boolean> {
    const rows = await rowsOf(this.manager, requirePasswordResetSql(this.schema), [userId, tokenHash, at, expiresAt]);
    return rows.length === 1;
  }

  async redeemPasswordReset(tokenHash: Buffer, newHash: string, now: Date): Promise<string | null> {
    const rows = await rowsOf<{ id: string }>(this.manager, redeemPasswordResetSql(this.schema), [tokenHash, newHash, now]);
    return rows[0]?.id ?? null;
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    // An outcome written with its change must not be dropped: a conflict rolls the change back.
    await insertAuditEntries(this.manager, this.schema, entries, 'refuse');
  }

  async enqueueCacheMarkers(userId: string, sessionIds: readonly string[], target: CacheMarkerTarget): Promise<number> {
    if (sessionIds.length === 0) return 0;
    // Its lock on cache_namespaces lasts until commit (see selectLiveCacheNamespacesSql).
    const live = await rowsOf<{ namespace: string }>(this.manager, selectLiveCacheNamespacesSql(this.schema), [target.liveWithinSeconds]);
    const namespaces = new Set(live.map((row) => row.namespace));
    if (target.includeOwn) namespaces.add(target.own);
    else namespaces.delete(target.own);
    if (namespaces.size === 0) return 0;
    await this.manager.query(insertCacheMarkersSql(this.schema), [[...namespaces], userId, sessionIds]);
    return namespaces.size;
  }

  afterCommit(callback: () => void | Promise<void>): void {
    this.commitHooks.push(callback);
  }

  afterRollback(callback: (error: unknown) => void): void {
    this.rollbackHooks.push(callback);
  }
}

export class TypeOrmSessionStore implements SessionStore {
  private readonly logger = new Logger(TypeOrmSessionStore.name);
  private readonly open = new AsyncLocalStorage<OpenTransaction>();

  constructor(
    private readonly dataSource: DataSource,
    /** The library's PostgreSQL schema (see sessionsSchemaName). */
    private readonly schema: string = DEFAULT_SESSIONS_SCHEMA,
  ) {}

  async inTransaction<T>(work: (tx: SessionTransaction) => Promise<T>): Promise<T> {
    const joined = this.open.getStore();
    if (joined) return work(joined.tx);

    let tx: TypeOrmSessionTransaction | undefined;
    let result: T;
    try {
      result = await this.dataSource.transaction((manager) => {
        tx = new TypeOrmSessionTransaction(manager, this.schema);
        return this.open.run({ tx }, () => work(tx!));
      });
    } catch (error) {
      await this.runHooks(tx?.rollbackHooks ?? [], (hook) => hook(error));
      throw error;
    }
    // Back in the caller's async context here: nothing a hook starts can join the finished transaction.
    await this.runHooks(tx!.commitHooks, (hook) => hook());
    return result;
  }

  async findUserByEmail(email: string): Promise<UserRecord | null> {
    return (await rowsOf<UserRecord>(this.dataSource.manager, selectUserByEmailSql(this.schema), [email]))[0] ?? null;
  }

  async findUserById(userId: string): Promise<UserRecord | null> {
    return (await rowsOf<UserRecord>(this.dataSource.manager, selectUserByIdSql(this.schema), [userId]))[0] ?? null;
  }

  async adminExists(): Promise<boolean> {
    const rows = await rowsOf(this.dataSource.manager, selectAnyAdminSql(this.schema), []);
    return rows.length > 0;
  }

  async findSessionStatus(sessionId: string): Promise<SessionStatus | null> {
    return (await rowsOf<SessionStatus>(this.dataSource.manager, selectSessionStatusSql(this.schema), [sessionId]))[0] ?? null;
  }

  async findSession(sessionId: string): Promise<SessionRecord | null> {
    return (await rowsOf<SessionRecord>(this.dataSource.manager, selectSessionSql(this.schema), [sessionId]))[0] ?? null;
  }

  async listSessions(userId: string, options: ListSessionsOptions): Promise<SessionRecord[]> {
    return options.includeRevoked
      ? rowsOf<SessionRecord>(this.dataSource.manager, listSessionsSql(this.schema), [userId])
      : rowsOf<SessionRecord>(this.dataSource.manager, listActiveSessionsSql(this.schema), [userId, options.now]);
  }

  async sessionAddressesSince(userId: string, since: Date): Promise<string[]> {
    const rows = await rowsOf<{ ip_address: string }>(this.dataSource.manager, sessionAddressesSinceSql(this.schema), [userId, since]);
    return rows.map((row) => row.ip_address);
  }

  async describeRefreshToken(tokenHash: Buffer): Promise<RefreshTokenState | null> {
    const rows = await rowsOf<{
      id: string;
      session_id: string;
      user_id: string;
      expires_at: Date;
      revoked_at: Date | null;
      session_revoked_at: Date | null;
      session_expires_at: Date;
      rotated_at: Date | null;
      rotated_ip_address: string | null;
      rotated_user_agent: string | null;
      has_live_child: boolean;
    }>(this.dataSource.manager, describeRefreshTokenSql(this.schema), [tokenHash]);
    const row = rows[0];
    if (!row) return null;
    return {
      tokenId: row.id,
      sessionId: row.session_id,
      userId: row.user_id,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
      sessionRevokedAt: row.session_revoked_at,
      sessionExpiresAt: row.session_expires_at,
      rotatedAt: row.rotated_at,
      rotatedIpAddress: row.rotated_ip_address,
      rotatedUserAgent: row.rotated_user_agent,
      hasLiveChild: row.has_live_child,
    };
  }

  async drainCacheMarkers(namespace: string, limit: number, write: (markers: RevokedSessionRef[]) => Promise<void>): Promise<number> {
    // Outside the ambient transaction of any caller: this is housekeeping with its own commit.
    return this.dataSource.transaction(async (manager) => {
      const rows = await rowsOf<{ id: string; user_id: string; session_id: string }>(manager, selectQueuedCacheMarkersSql(this.schema), [namespace, limit]);
      if (rows.length === 0) return 0;
      await write(rows.map((row) => ({ userId: row.user_id, sessionId: row.session_id })));
      await manager.query(deleteCacheMarkersSql(this.schema), [rows.map((row) => row.id)]);
      return rows.length;
    });
  }

  async registerCacheNamespace(namespace: string, liveWithinSeconds: number): Promise<'live' | 'registered'> {
    // Outside any caller's transaction, like the drain. Two transactions: the lock below must not be
    // an upgrade of the row lock this UPDATE takes (two instances upgrading at once would deadlock).
    const touched = await this.dataSource.transaction(async (manager) => {
      await manager.query(deleteStaleCacheMarkersSql(this.schema), [liveWithinSeconds]);
      return rowsOf(manager, touchLiveCacheNamespaceSql(this.schema), [namespace, liveWithinSeconds]);
    });
    if (touched.length > 0) return 'live';
    return this.dataSource.transaction(async (manager) => {
      await manager.query(lockCacheNamespacesSql(this.schema));
      await manager.query(upsertCacheNamespaceSql(this.schema), [namespace]);
      await manager.query(deleteGoneCacheNamespacesSql(this.schema), [liveWithinSeconds * 10]);
      return 'registered' as const;
    });
  }

  listenForCacheMarkers(namespace: string, onQueued: () => void): { close(): Promise<void> } | null {
    // The pool's own connection settings (TypeORM builds them from the data source's options).
    const config = (this.dataSource.driver as unknown as { master?: { options?: Record<string, unknown> } }).master?.options;
    if (!config) return null;
    const listener = new CacheMarkerListener({ ...config, application_name: 'cache-marker-listener' }, namespace, onQueued);
    listener.start();
    return listener;
  }

  async listRevokedSince(since: Date): Promise<RevokedSessionRef[]> {
    const rows = await rowsOf<{ id: string; user_id: string }>(this.dataSource.manager, listRevokedSinceSql(this.schema), [since]);
    return rows.map((row) => ({ userId: row.user_id, sessionId: row.id }));
  }

  async ping(): Promise<void> {
    await this.dataSource.query(PING_SQL);
  }

  private async runHooks<H>(hooks: H[], call: (hook: H) => void | Promise<void>): Promise<void> {
    await Promise.all(
      hooks.map(async (hook) => {
        try {
          await call(hook);
        } catch (error) {
          this.logger.error(`A transaction hook failed: ${(error as Error).message}`, (error as Error).stack);
        }
      }),
    );
  }
}
