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
import { CACHE_MARKER_CHANNEL, CacheMarkerListener } from './cache-marker-listener';
import { RefreshTokenOrmEntity } from './refresh-token.orm-entity';
import { SessionOrmEntity } from './session.orm-entity';
import { UserOrmEntity } from './user.orm-entity';

/** The cache namespaces that revocations queue markers for ($1: seconds since last seen). */
export const SELECT_LIVE_CACHE_NAMESPACES = `SELECT namespace FROM cache_namespaces WHERE last_seen_at > now() - $1::int * interval '1 second'`;

/**
 * One marker per (namespace, session): $1 namespaces, $2 user, $3 session ids. Each namespace is
 * notified, delivered when the revocation commits (see CacheMarkerListener).
 */
export const INSERT_CACHE_MARKERS = `WITH queued AS (
    INSERT INTO cache_marker_outbox (namespace, user_id, session_id)
    SELECT n, $2, s FROM unnest($1::text[]) n CROSS JOIN unnest($3::uuid[]) s
    RETURNING namespace)
  SELECT pg_notify('${CACHE_MARKER_CHANNEL}', namespace) FROM (SELECT DISTINCT namespace FROM queued) q`;

/**
 * Logout's one statement: ends the session of a refresh token (live, or rotated away from a live
 * session) and all its tokens. $1 token hash, $2 the user it must belong to or null, $3 when,
 * $4 reason, $5 who. Exported so the logout benchmark explains the statement the store sends.
 */
export const REVOKE_SESSION_BY_REFRESH_TOKEN = `WITH ended AS (
         UPDATE sessions s SET revoked_at = $3, revoked_reason = $4, revoked_by = COALESCE($5, s.user_id)
           FROM refresh_tokens t
          WHERE t.token_hash = $1 AND (t.revoked_at IS NULL OR t.rotated_at IS NOT NULL) AND s.id = t.session_id AND s.revoked_at IS NULL
            AND ($2::uuid IS NULL OR s.user_id = $2::uuid)
         RETURNING s.id, s.user_id),
       tokens AS (
         UPDATE refresh_tokens SET revoked_at = $3
          WHERE session_id IN (SELECT id FROM ended) AND revoked_at IS NULL)
       SELECT id, user_id FROM ended`;

interface OpenTransaction {
  readonly tx: TypeOrmSessionTransaction;
}

/** `manager.query` returns `[rows, count]` for UPDATE and DELETE, plain rows otherwise. */
/** The addresses a user signed in from (sessions created since $2, revoked or not), newest first, at most 100. */
export const SESSION_ADDRESSES_SINCE = `
  SELECT ip_address FROM sessions
  WHERE user_id = $1 AND created_at >= $2 AND ip_address IS NOT NULL
  GROUP BY ip_address ORDER BY max(created_at) DESC LIMIT 100`;

async function rowsOf<T>(manager: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const raw = await manager.query(sql, params);
  return (Array.isArray(raw) && raw.length === 2 && Array.isArray(raw[0]) && typeof raw[1] === 'number' ? raw[0] : raw) as T[];
}

class TypeOrmSessionTransaction implements SessionTransaction {
  readonly commitHooks: Array<() => void | Promise<void>> = [];
  readonly rollbackHooks: Array<(error: unknown) => void> = [];

  constructor(private readonly manager: EntityManager) {}

  async insertUser(user: NewUser): Promise<boolean> {
    const rows = await rowsOf(
      this.manager,
      `INSERT INTO users (id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (email) DO NOTHING RETURNING id`,
      [user.id, user.email, user.passwordHash, user.role, user.createdAt],
    );
    return rows.length === 1;
  }

  async insertFirstAdmin(user: NewUser): Promise<FirstAdminInsert> {
    // Instances starting together (even with different ADMIN_EMAILs) create at most one admin.
    await this.manager.query(`SELECT pg_advisory_xact_lock(hashtext('sessions.admin_bootstrap'))`);
    const taken = async () => {
      const rows = await rowsOf<{ id: string; role: UserRole }>(this.manager, `SELECT id, role FROM users WHERE email = $1`, [user.email]);
      return rows[0] ? ({ kind: 'email_taken', userId: rows[0].id, role: rows[0].role } as const) : null;
    };
    const existing = await taken();
    if (existing) return existing;
    const admins = await rowsOf(this.manager, `SELECT 1 FROM users WHERE role = 'admin' LIMIT 1`, []);
    if (admins.length > 0) return { kind: 'admin_exists' };
    // A registration of the same address may commit between our read and this insert.
    if (await this.insertUser(user)) return { kind: 'inserted' };
    return (await taken()) ?? { kind: 'admin_exists' };
  }

  async setUserRole(userId: string, role: UserRole): Promise<RoleChange> {
    // Every admin row and the target, locked in id order: concurrent role changes serialize here
    // instead of deadlocking, and the count below is of rows no one else can change until we commit.
    const rows = await rowsOf<{ id: string; role: UserRole }>(
      this.manager,
      `SELECT id, role FROM users WHERE id = $1 OR role = 'admin' ORDER BY id FOR UPDATE`,
      [userId],
    );
    const target = rows.find((row) => row.id === userId);
    if (!target) return { kind: 'user_not_found' };
    if (target.role === 'admin' && role !== 'admin' && rows.filter((row) => row.role === 'admin').length === 1) return { kind: 'last_admin' };
    await this.manager.query(`UPDATE users SET role = $2 WHERE id = $1`, [userId, role]);
    return { kind: 'set', previousRole: target.role };
  }

  async lockVerifiedCredentials(userId: string, verifiedHash: string): Promise<CredentialCheck> {
    // FOR SHARE conflicts with the password change's UPDATE: whichever comes second waits, and
    // a waiting SELECT ... FOR SHARE reads the row as the change committed it.
    const rows = await rowsOf<{ current: boolean; disabled: boolean; reset_required: boolean }>(
      this.manager,
      `SELECT password_hash = $2 AS current, disabled_at IS NOT NULL AS disabled, password_reset_required_at IS NOT NULL AS reset_required
         FROM users WHERE id = $1 FOR SHARE`,
      [userId, verifiedHash],
    );
    const row = rows[0];
    if (!row) return 'user_not_found';
    if (row.disabled) return 'disabled';
    if (row.reset_required) return 'reset_required';
    return row.current ? 'current' : 'changed';
  }

  async replacePasswordHash(userId: string, expectedHash: string, newHash: string): Promise<boolean> {
    const rows = await rowsOf(this.manager, `UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2 RETURNING id`, [
      userId,
      expectedHash,
      newHash,
    ]);
    return rows.length === 1;
  }

  async insertSession(session: NewSession): Promise<void> {
    await this.manager.getRepository(SessionOrmEntity).insert({
      ...session,
      lastSeenAt: session.createdAt,
      revokedAt: null,
      revokedReason: null,
      revokedBy: null,
    });
  }

  async insertRefreshToken(token: NewRefreshToken): Promise<void> {
    await this.manager.getRepository(RefreshTokenOrmEntity).insert({ ...token, revokedAt: null, rotatedAt: null, rotatedIpAddress: null, rotatedUserAgent: null });
  }

  async consumeRefreshToken(tokenHash: Buffer, now: Date, context: { ipAddress: string | null; userAgent: string | null }): Promise<RotatedToken | null> {
    // One statement decides: of two concurrent refreshes with one token, the second finds it revoked.
    // The session row is locked before the token row, the order every revocation uses, so a
    // refresh racing a logout or a revoke-all waits for it instead of deadlocking with it.
    const rows = await rowsOf<{ id: string; session_id: string; user_id: string }>(
      this.manager,
      `WITH target AS (
         SELECT session_id FROM refresh_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2),
       touched AS (
         UPDATE sessions s SET last_seen_at = $2, ip_address = COALESCE($3, s.ip_address), user_agent = COALESCE($4, s.user_agent)
          WHERE s.id IN (SELECT session_id FROM target) AND s.revoked_at IS NULL AND s.expires_at > $2
         RETURNING s.id)
       UPDATE refresh_tokens t SET revoked_at = $2, rotated_at = $2, rotated_ip_address = $3, rotated_user_agent = $4
        WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND t.session_id IN (SELECT id FROM touched)
       RETURNING t.id, t.session_id, t.user_id`,
      [tokenHash, now, context.ipAddress, context.userAgent],
    );
    return rows.length === 1 ? { tokenId: rows[0].id, sessionId: rows[0].session_id, userId: rows[0].user_id } : null;
  }

  async touchActiveSession(sessionId: string, now: Date): Promise<boolean> {
    const rows = await rowsOf<{ id: string }>(
      this.manager,
      `UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING id`,
      [sessionId, now],
    );
    return rows.length === 1;
  }

  async retireLiveRefreshTokens(sessionId: string, now: Date, context: { ipAddress: string | null; userAgent: string | null }): Promise<number> {
    const rows = await rowsOf(
      this.manager,
      `UPDATE refresh_tokens SET revoked_at = $2, rotated_at = $2, rotated_ip_address = $3, rotated_user_agent = $4
        WHERE session_id = $1 AND revoked_at IS NULL
       RETURNING id`,
      [sessionId, now, context.ipAddress, context.userAgent],
    );
    return rows.length;
  }

  async revokeSessionByRefreshToken(tokenHash: Buffer, userId: string | null, stamp: RevocationStamp): Promise<{ sessionId: string; userId: string } | null> {
    const rows = await rowsOf<{ id: string; user_id: string }>(
      this.manager,
      REVOKE_SESSION_BY_REFRESH_TOKEN,
      [tokenHash, userId, stamp.at, stamp.reason, stamp.revokedBy],
    );
    return rows.length === 1 ? { sessionId: rows[0].id, userId: rows[0].user_id } : null;
  }

  async revokeSession(userId: string | null, sessionId: string, stamp: RevocationStamp): Promise<string | null> {
    const rows = await rowsOf<{ user_id: string }>(
      this.manager,
      `WITH ended AS (
         UPDATE sessions SET revoked_at = $3, revoked_reason = $4, revoked_by = $5
          WHERE id = $2 AND ($1::uuid IS NULL OR user_id = $1::uuid) AND revoked_at IS NULL AND expires_at > $3
         RETURNING id, user_id),
       tokens AS (
         UPDATE refresh_tokens SET revoked_at = $3
          WHERE session_id IN (SELECT id FROM ended) AND revoked_at IS NULL)
       SELECT user_id FROM ended`,
      [userId, sessionId, stamp.at, stamp.reason, stamp.revokedBy],
    );
    return rows.length === 1 ? rows[0].user_id : null;
  }

  async userExists(userId: string): Promise<boolean> {
    const rows = await rowsOf(this.manager, `SELECT 1 FROM users WHERE id = $1`, [userId]);
    return rows.length === 1;
  }

  async revokeAllSessions(userId: string, exceptSessionId: string | null, stamp: RevocationStamp): Promise<string[]> {
    const rows = await rowsOf<{ id: string }>(
      this.manager,
      `WITH ended AS (
         UPDATE sessions SET revoked_at = $3, revoked_reason = $4, revoked_by = $5
          WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $3
            AND ($2::uuid IS NULL OR id <> $2::uuid)
         RETURNING id),
       tokens AS (
         UPDATE refresh_tokens SET revoked_at = $3
          WHERE user_id = $1 AND revoked_at IS NULL AND session_id IN (SELECT id FROM ended))
       SELECT id FROM ended`,
      [userId, exceptSessionId, stamp.at, stamp.reason, stamp.revokedBy],
    );
    return rows.map((row) => row.id);
  }

  async setUserDisabled(userId: string, disabledAt: Date | null): Promise<boolean> {
    const rows = await rowsOf(
      this.manager,
      `UPDATE users SET disabled_at = CASE WHEN $2::timestamptz IS NULL THEN NULL ELSE COALESCE(disabled_at, $2::timestamptz) END
        WHERE id = $1 RETURNING id`,
      [userId, disabledAt],
    );
    return rows.length === 1;
  }

  async requirePasswordReset(userId: string, tokenHash: Buffer, at: Date, expiresAt: Date): Promise<boolean> {
    const rows = await rowsOf(
      this.manager,
      `UPDATE users SET password_reset_required_at = COALESCE(password_reset_required_at, $3), password_reset_token_hash = $2, password_reset_expires_at = $4
        WHERE id = $1 RETURNING id`,
      [userId, tokenHash, at, expiresAt],
    );
    return rows.length === 1;
  }

  async redeemPasswordReset(tokenHash: Buffer, newHash: string, now: Date): Promise<string | null> {
    const rows = await rowsOf<{ id: string }>(
      this.manager,
      `UPDATE users SET password_hash = $2, password_reset_required_at = NULL, password_reset_token_hash = NULL, password_reset_expires_at = NULL
        WHERE password_reset_token_hash = $1 AND password_reset_expires_at > $3 RETURNING id`,
      [tokenHash, newHash, now],
    );
    return rows[0]?.id ?? null;
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    // An outcome written with its change must not be dropped: a conflict rolls the change back.
    await insertAuditEntries(this.manager, entries, 'refuse');
  }

  async enqueueCacheMarkers(userId: string, sessionIds: readonly string[], target: CacheMarkerTarget): Promise<number> {
    if (sessionIds.length === 0) return 0;
    // A plain SELECT, but its ACCESS SHARE lock on cache_namespaces lasts until commit: a namespace
    // registering now waits for this transaction, so it either is listed here or sees this revocation.
    const live = await rowsOf<{ namespace: string }>(this.manager, SELECT_LIVE_CACHE_NAMESPACES, [target.liveWithinSeconds]);
    const namespaces = new Set(live.map((row) => row.namespace));
    if (target.includeOwn) namespaces.add(target.own);
    else namespaces.delete(target.own);
    if (namespaces.size === 0) return 0;
    await this.manager.query(INSERT_CACHE_MARKERS, [[...namespaces], userId, sessionIds]);
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

  constructor(private readonly dataSource: DataSource) {}

  async inTransaction<T>(work: (tx: SessionTransaction) => Promise<T>): Promise<T> {
    const joined = this.open.getStore();
    if (joined) return work(joined.tx);

    let tx: TypeOrmSessionTransaction | undefined;
    let result: T;
    try {
      result = await this.dataSource.transaction((manager) => {
        tx = new TypeOrmSessionTransaction(manager);
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
    return this.dataSource.getRepository(UserOrmEntity).findOne({ where: { email } });
  }

  async findUserById(userId: string): Promise<UserRecord | null> {
    return this.dataSource.getRepository(UserOrmEntity).findOne({ where: { id: userId } });
  }

  async adminExists(): Promise<boolean> {
    const rows = await rowsOf(this.dataSource.manager, `SELECT 1 FROM users WHERE role = 'admin' LIMIT 1`, []);
    return rows.length > 0;
  }

  async findSessionStatus(sessionId: string): Promise<SessionStatus | null> {
    return this.dataSource.getRepository(SessionOrmEntity).findOne({
      select: { userId: true, expiresAt: true, revokedAt: true },
      where: { id: sessionId },
    });
  }

  async findSession(sessionId: string): Promise<SessionRecord | null> {
    return this.dataSource.getRepository(SessionOrmEntity).findOne({ where: { id: sessionId } });
  }

  async listSessions(userId: string, options: ListSessionsOptions): Promise<SessionRecord[]> {
    const query = this.dataSource
      .getRepository(SessionOrmEntity)
      .createQueryBuilder('s')
      .where('s.user_id = :userId', { userId })
      .orderBy('s.created_at', 'DESC')
      .addOrderBy('s.id', 'DESC');
    if (!options.includeRevoked) {
      query.andWhere('s.revoked_at IS NULL').andWhere('s.expires_at > :now', { now: options.now });
    }
    return query.getMany();
  }

  async sessionAddressesSince(userId: string, since: Date): Promise<string[]> {
    const rows = await rowsOf<{ ip_address: string }>(this.dataSource.manager, SESSION_ADDRESSES_SINCE, [userId, since]);
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
    }>(
      this.dataSource.manager,
      `SELECT t.id, t.session_id, t.user_id, t.expires_at, t.revoked_at, s.revoked_at AS session_revoked_at, s.expires_at AS session_expires_at,
              t.rotated_at, t.rotated_ip_address, t.rotated_user_agent,
              EXISTS (SELECT 1 FROM refresh_tokens c WHERE c.parent_id = t.id AND c.revoked_at IS NULL) AS has_live_child
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
        WHERE t.token_hash = $1`,
      [tokenHash],
    );
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
      const rows = await rowsOf<{ id: string; user_id: string; session_id: string }>(
        manager,
        `SELECT id, user_id, session_id FROM cache_marker_outbox WHERE namespace = $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [namespace, limit],
      );
      if (rows.length === 0) return 0;
      await write(rows.map((row) => ({ userId: row.user_id, sessionId: row.session_id })));
      await manager.query(`DELETE FROM cache_marker_outbox WHERE id = ANY($1::bigint[])`, [rows.map((row) => row.id)]);
      return rows.length;
    });
  }

  async registerCacheNamespace(namespace: string, liveWithinSeconds: number): Promise<'live' | 'registered'> {
    // Outside any caller's transaction, like the drain. Two transactions: the lock below must not be
    // an upgrade of the row lock this UPDATE takes (two instances upgrading at once would deadlock).
    const touched = await this.dataSource.transaction(async (manager) => {
      await manager.query(`DELETE FROM cache_marker_outbox WHERE created_at < now() - $1::int * interval '1 second'`, [liveWithinSeconds]);
      return rowsOf(
        manager,
        `UPDATE cache_namespaces SET last_seen_at = now() WHERE namespace = $1 AND last_seen_at > now() - $2::int * interval '1 second' RETURNING namespace`,
        [namespace, liveWithinSeconds],
      );
    });
    if (touched.length > 0) return 'live';
    return this.dataSource.transaction(async (manager) => {
      // Waits for every open revocation that listed the namespaces without this one.
      await manager.query(`LOCK TABLE cache_namespaces IN ACCESS EXCLUSIVE MODE`);
      await manager.query(
        `INSERT INTO cache_namespaces (namespace, last_seen_at) VALUES ($1, now()) ON CONFLICT (namespace) DO UPDATE SET last_seen_at = now()`,
        [namespace],
      );
      // Namespaces gone for long (one per process for in-memory caches) are forgotten.
      await manager.query(`DELETE FROM cache_namespaces WHERE last_seen_at < now() - $1::int * interval '1 second'`, [liveWithinSeconds * 10]);
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
    const rows = await rowsOf<{ id: string; user_id: string }>(
      this.dataSource.manager,
      `SELECT id, user_id FROM sessions WHERE revoked_at >= $1 ORDER BY user_id`,
      [since],
    );
    return rows.map((row) => ({ userId: row.user_id, sessionId: row.id }));
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
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
