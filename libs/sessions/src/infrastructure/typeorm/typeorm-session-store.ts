import { Logger } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { DataSource, EntityManager } from 'typeorm';
import { AuditEntry } from '../../application/ports/audit-log.port';
import {
  ListSessionsOptions,
  NewRefreshToken,
  NewSession,
  NewUser,
  RevocationStamp,
  RevokedSessionRef,
  RotatedToken,
  SessionStore,
  SessionTransaction,
} from '../../application/ports/session-store.port';
import { RefreshTokenState, SessionRecord, SessionStatus, UserRecord, UserRole } from '../../domain/records';
import { insertAuditEntries } from './audit-entry.sql';
import { RefreshTokenOrmEntity } from './refresh-token.orm-entity';
import { SessionOrmEntity } from './session.orm-entity';
import { UserOrmEntity } from './user.orm-entity';

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

  async setUserRole(userId: string, role: UserRole): Promise<void> {
    await this.manager.getRepository(UserOrmEntity).update({ id: userId }, { role });
  }

  async setPasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.manager.getRepository(UserOrmEntity).update({ id: userId }, { passwordHash });
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
      `WITH ended AS (
         UPDATE sessions s SET revoked_at = $3, revoked_reason = $4, revoked_by = COALESCE($5, s.user_id)
           FROM refresh_tokens t
          WHERE t.token_hash = $1 AND (t.revoked_at IS NULL OR t.rotated_at IS NOT NULL) AND s.id = t.session_id AND s.revoked_at IS NULL
            AND ($2::uuid IS NULL OR s.user_id = $2::uuid)
         RETURNING s.id, s.user_id),
       tokens AS (
         UPDATE refresh_tokens SET revoked_at = $3
          WHERE session_id IN (SELECT id FROM ended) AND revoked_at IS NULL)
       SELECT id, user_id FROM ended`,
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

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    // An outcome written with its change must not be dropped: a conflict rolls the change back.
    await insertAuditEntries(this.manager, entries, 'refuse');
  }

  async enqueueCacheMarkers(userId: string, sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    await this.manager.query(`INSERT INTO cache_marker_outbox (user_id, session_id) SELECT $1, unnest($2::uuid[])`, [userId, sessionIds]);
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

  async drainCacheMarkers(limit: number, write: (markers: RevokedSessionRef[]) => Promise<void>): Promise<number> {
    // Outside the ambient transaction of any caller: this is housekeeping with its own commit.
    return this.dataSource.transaction(async (manager) => {
      const rows = await rowsOf<{ id: string; user_id: string; session_id: string }>(
        manager,
        `SELECT id, user_id, session_id FROM cache_marker_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      if (rows.length === 0) return 0;
      await write(rows.map((row) => ({ userId: row.user_id, sessionId: row.session_id })));
      await manager.query(`DELETE FROM cache_marker_outbox WHERE id = ANY($1::bigint[])`, [rows.map((row) => row.id)]);
      return rows.length;
    });
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
