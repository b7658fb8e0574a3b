import { EntityManager } from 'typeorm';
import {
  ListSessionsOptions,
  NewRefreshToken,
  NewSession,
  RevocationStamp,
  RotatedToken,
  RotationContext,
  SessionRecordWrites,
} from '../../application/ports/session-records.port';
import { RefreshTokenState, SessionRecord, SessionStatus } from '../../domain/records';
import { RefreshTokenOrmEntity } from './refresh-token.orm-entity';
import { SessionOrmEntity } from './session.orm-entity';
import { ManagerSource, rowsOf } from './sql-rows';

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

/** The addresses a user signed in from (sessions created since $2, revoked or not), newest first, at most 100. */
export const SESSION_ADDRESSES_SINCE = `
  SELECT ip_address FROM sessions
  WHERE user_id = $1 AND created_at >= $2 AND ip_address IS NOT NULL
  GROUP BY ip_address ORDER BY max(created_at) DESC LIMIT 100`;

/** The `sessions` and `refresh_tokens` tables. Each statement goes through the manager its source gives (see TypeOrmUnitOfWork). */
export class TypeOrmSessionRecords implements SessionRecordWrites {
  constructor(private readonly managers: ManagerSource) {}

  private get manager(): EntityManager {
    return this.managers();
  }

  async findStatus(sessionId: string): Promise<SessionStatus | null> {
    return this.manager.getRepository(SessionOrmEntity).findOne({
      select: { userId: true, expiresAt: true, revokedAt: true },
      where: { id: sessionId },
    });
  }

  async find(sessionId: string): Promise<SessionRecord | null> {
    return this.manager.getRepository(SessionOrmEntity).findOne({ where: { id: sessionId } });
  }

  async list(userId: string, options: ListSessionsOptions): Promise<SessionRecord[]> {
    const query = this.manager
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
      this.manager,
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

  async addressesSince(userId: string, since: Date): Promise<string[]> {
    const rows = await rowsOf<{ ip_address: string }>(this.manager, SESSION_ADDRESSES_SINCE, [userId, since]);
    return rows.map((row) => row.ip_address);
  }

  async insert(session: NewSession): Promise<void> {
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

  async consumeRefreshToken(tokenHash: Buffer, now: Date, context: RotationContext): Promise<RotatedToken | null> {
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

  async touchActive(sessionId: string, now: Date): Promise<boolean> {
    const rows = await rowsOf<{ id: string }>(
      this.manager,
      `UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING id`,
      [sessionId, now],
    );
    return rows.length === 1;
  }

  async retireLiveRefreshTokens(sessionId: string, now: Date, context: RotationContext): Promise<number> {
    const rows = await rowsOf(
      this.manager,
      `UPDATE refresh_tokens SET revoked_at = $2, rotated_at = $2, rotated_ip_address = $3, rotated_user_agent = $4
        WHERE session_id = $1 AND revoked_at IS NULL
       RETURNING id`,
      [sessionId, now, context.ipAddress, context.userAgent],
    );
    return rows.length;
  }

  async revokeByRefreshToken(tokenHash: Buffer, userId: string | null, stamp: RevocationStamp): Promise<{ sessionId: string; userId: string } | null> {
    const rows = await rowsOf<{ id: string; user_id: string }>(
      this.manager,
      REVOKE_SESSION_BY_REFRESH_TOKEN,
      [tokenHash, userId, stamp.at, stamp.reason, stamp.revokedBy],
    );
    return rows.length === 1 ? { sessionId: rows[0].id, userId: rows[0].user_id } : null;
  }

  async revoke(userId: string | null, sessionId: string, stamp: RevocationStamp): Promise<string | null> {
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

  async revokeAll(userId: string, exceptSessionId: string | null, stamp: RevocationStamp): Promise<string[]> {
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
}
