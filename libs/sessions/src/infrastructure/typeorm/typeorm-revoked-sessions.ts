import { EntityManager } from 'typeorm';
import { RevokedSessionRef, RevokedSessions } from '../../application/ports/revoked-sessions.port';
import { ManagerSource, rowsOf } from './sql-rows';

/** Revoked sessions, from the `sessions` table, for the cache repair. */
export class TypeOrmRevokedSessions implements RevokedSessions {
  constructor(private readonly managers: ManagerSource) {}

  private get manager(): EntityManager {
    return this.managers();
  }

  async listSince(since: Date): Promise<RevokedSessionRef[]> {
    const rows = await rowsOf<{ id: string; user_id: string }>(
      this.manager,
      `SELECT id, user_id FROM sessions WHERE revoked_at >= $1 ORDER BY user_id`,
      [since],
    );
    return rows.map((row) => ({ userId: row.user_id, sessionId: row.id }));
  }
}
