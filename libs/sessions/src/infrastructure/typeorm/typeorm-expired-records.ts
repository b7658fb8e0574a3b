import { EntityManager } from 'typeorm';
import { ExpiredRecords, ExpiredSessionCursor } from '../../application/ports/expired-records.port';
import { anyExpiredSql, deleteExpiredSessionsSql, deleteStaleLockoutsSql, deleteTokensOfExpiredSessionsSql, tryLockPurgeSql } from './expired-records.sql';
import { DEFAULT_SESSIONS_SCHEMA } from './schema-name';
import { ManagerSource, rowsOf } from './sql-rows';

/** The purge's statements. Each goes through the manager its source gives: the open transaction's (see TypeOrmUnitOfWork). */
export class TypeOrmExpiredRecords implements ExpiredRecords {
  constructor(
    private readonly managers: ManagerSource,
    private readonly schema: string = DEFAULT_SESSIONS_SCHEMA,
  ) {}

  private get manager(): EntityManager {
    return this.managers();
  }

  async tryLockPurge(): Promise<boolean> {
    const [row] = await rowsOf<{ locked: boolean }>(this.manager, tryLockPurgeSql, [`${this.schema}.sessions_purge`]);
    return row.locked;
  }

  async anyExpired(cutoff: Date): Promise<boolean> {
    const [row] = await rowsOf<{ any: boolean }>(this.manager, anyExpiredSql(this.schema), [cutoff]);
    return row.any;
  }

  async deleteTokensOfExpiredSessions(cutoff: Date, limit: number, from: ExpiredSessionCursor): Promise<{ deleted: number; next: ExpiredSessionCursor }> {
    const [row] = await rowsOf<{ deleted: number; expiresAt: Date | null; sessionId: string | null }>(
      this.manager,
      deleteTokensOfExpiredSessionsSql(this.schema),
      [cutoff, limit, from.expiresAt, from.sessionId],
    );
    const next = row.expiresAt !== null && row.sessionId !== null ? { expiresAt: row.expiresAt, sessionId: row.sessionId } : from;
    return { deleted: row.deleted, next };
  }

  async deleteExpiredSessions(cutoff: Date, limit: number): Promise<{ sessions: number; refreshTokens: number }> {
    const [row] = await rowsOf<{ sessions: number; refreshTokens: number }>(this.manager, deleteExpiredSessionsSql(this.schema), [cutoff, limit]);
    return row;
  }

  async deleteStaleLockouts(cutoff: Date, limit: number): Promise<number> {
    const raw: unknown = await this.manager.query(deleteStaleLockoutsSql(this.schema), [cutoff, limit]);
    return Array.isArray(raw) && typeof raw[1] === 'number' ? raw[1] : 0;
  }
}
