import { EntityManager } from 'typeorm';
import {
  ListSessionsOptions,
  NewRefreshToken,
  NewSession,
  RevocationStamp,
  RotatedToken,
  RotationContext,
  SessionRecordWrites,
  UserSessionActivity,
} from '../../application/ports/session-records.port';
import { ConsoleSessionState, RefreshTokenState, SessionKind, SessionRecord, SessionStatus } from '../../domain/records';
import { DEFAULT_SESSIONS_SCHEMA } from './schema-name';
import {
  consumeRefreshTokenSql,
  countActiveSessionsSql,
  countSessionsRevokedSinceSql,
  describeRefreshTokenSql,
  insertRefreshTokenSql,
  insertSessionSql,
  listActiveSessionsSql,
  lockLiveWebSessionsSql,
  listSessionsSql,
  markReauthenticatedSql,
  retireLiveRefreshTokensSql,
  revokeAllSessionsSql,
  revokeSessionByRefreshTokenSql,
  revokeSessionSql,
  selectConsoleSessionSql,
  selectSessionSql,
  selectSessionStatusSql,
  sessionActivitySql,
  sessionAddressesSinceSql,
  touchActiveSessionSql,
} from './session-records.sql';
import { ManagerSource, rowsOf } from './sql-rows';

/** The `sessions` and `refresh_tokens` tables. Each statement goes through the manager its source gives (see TypeOrmUnitOfWork). */
export class TypeOrmSessionRecords implements SessionRecordWrites {
  constructor(
    private readonly managers: ManagerSource,
    /** The library's PostgreSQL schema (see sessionsSchemaName). */
    private readonly schema: string = DEFAULT_SESSIONS_SCHEMA,
  ) {}

  private get manager(): EntityManager {
    return this.managers();
  }

  async findStatus(sessionId: string): Promise<SessionStatus | null> {
    return (await rowsOf<SessionStatus>(this.manager, selectSessionStatusSql(this.schema), [sessionId]))[0] ?? null;
  }

  async find(sessionId: string): Promise<SessionRecord | null> {
    return (await rowsOf<SessionRecord>(this.manager, selectSessionSql(this.schema), [sessionId]))[0] ?? null;
  }

  async list(userId: string, options: ListSessionsOptions): Promise<SessionRecord[]> {
    return options.includeRevoked
      ? rowsOf<SessionRecord>(this.manager, listSessionsSql(this.schema), [userId])
      : rowsOf<SessionRecord>(this.manager, listActiveSessionsSql(this.schema), [userId, options.now]);
  }

  async activityOf(userIds: readonly string[], now: Date): Promise<UserSessionActivity[]> {
    if (userIds.length === 0) return [];
    return rowsOf<UserSessionActivity>(this.manager, sessionActivitySql(this.schema), [userIds, now]);
  }

  async countActive(now: Date): Promise<number> {
    return (await rowsOf<{ count: number }>(this.manager, countActiveSessionsSql(this.schema), [now]))[0].count;
  }

  async countRevokedSince(since: Date): Promise<number> {
    return (await rowsOf<{ count: number }>(this.manager, countSessionsRevokedSinceSql(this.schema), [since]))[0].count;
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
      session_kind: SessionKind;
    }>(this.manager, describeRefreshTokenSql(this.schema), [tokenHash]);
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
      sessionKind: row.session_kind,
    };
  }

  async addressesSince(userId: string, since: Date): Promise<string[]> {
    const rows = await rowsOf<{ ip_address: string }>(this.manager, sessionAddressesSinceSql(this.schema), [userId, since]);
    return rows.map((row) => row.ip_address);
  }

  async findConsoleSession(tokenHash: Buffer, now: Date): Promise<ConsoleSessionState | null> {
    return (await rowsOf<ConsoleSessionState>(this.manager, selectConsoleSessionSql(this.schema), [tokenHash, now]))[0] ?? null;
  }

  async insert(session: NewSession): Promise<void> {
    await this.manager.query(insertSessionSql(this.schema), [
      session.id,
      session.userId,
      session.createdAt,
      session.expiresAt,
      session.ipAddress,
      session.userAgent,
      session.kind ?? 'app',
      session.reauthenticatedAt ?? null,
    ]);
  }

  async insertRefreshToken(token: NewRefreshToken): Promise<void> {
    await this.manager.query(insertRefreshTokenSql(this.schema), [
      token.id,
      token.sessionId,
      token.userId,
      token.tokenHash,
      token.issuedAt,
      token.expiresAt,
      token.parentId,
    ]);
  }

  async consumeRefreshToken(tokenHash: Buffer, now: Date, context: RotationContext): Promise<RotatedToken | null> {
    // One statement decides (see consumeRefreshTokenSql for the lock order).
    const rows = await rowsOf<{ id: string; session_id: string; user_id: string }>(this.manager, consumeRefreshTokenSql(this.schema), [
      tokenHash,
      now,
      context.ipAddress,
      context.userAgent,
    ]);
    return rows.length === 1 ? { tokenId: rows[0].id, sessionId: rows[0].session_id, userId: rows[0].user_id } : null;
  }

  async touchActive(sessionId: string, now: Date): Promise<boolean> {
    const rows = await rowsOf<{ id: string }>(this.manager, touchActiveSessionSql(this.schema), [sessionId, now]);
    return rows.length === 1;
  }

  async retireLiveRefreshTokens(sessionId: string, now: Date, context: RotationContext): Promise<number> {
    const rows = await rowsOf(this.manager, retireLiveRefreshTokensSql(this.schema), [sessionId, now, context.ipAddress, context.userAgent]);
    return rows.length;
  }

  async revokeByRefreshToken(tokenHash: Buffer, userId: string | null, stamp: RevocationStamp): Promise<{ sessionId: string; userId: string } | null> {
    const rows = await rowsOf<{ id: string; user_id: string }>(this.manager, revokeSessionByRefreshTokenSql(this.schema), [
      tokenHash,
      userId,
      stamp.at,
      stamp.reason,
      stamp.revokedBy,
    ]);
    return rows.length === 1 ? { sessionId: rows[0].id, userId: rows[0].user_id } : null;
  }

  async revoke(userId: string | null, sessionId: string, stamp: RevocationStamp): Promise<string | null> {
    const rows = await rowsOf<{ user_id: string }>(this.manager, revokeSessionSql(this.schema), [userId, sessionId, stamp.at, stamp.reason, stamp.revokedBy]);
    return rows.length === 1 ? rows[0].user_id : null;
  }

  async revokeAll(userId: string, exceptSessionId: string | null, stamp: RevocationStamp): Promise<string[]> {
    const rows = await rowsOf<{ id: string }>(this.manager, revokeAllSessionsSql(this.schema), [
      userId,
      exceptSessionId,
      stamp.at,
      stamp.reason,
      stamp.revokedBy,
    ]);
    return rows.map((row) => row.id);
  }

  async lockLiveWebSessions(userId: string, now: Date): Promise<string[]> {
    return (await rowsOf<{ id: string }>(this.manager, lockLiveWebSessionsSql(this.schema), [userId, now])).map((row) => row.id);
  }

  async markReauthenticated(userId: string, sessionId: string, at: Date): Promise<boolean> {
    return (await rowsOf(this.manager, markReauthenticatedSql(this.schema), [userId, sessionId, at])).length === 1;
  }
}
