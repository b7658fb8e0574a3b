import { EntityManager } from 'typeorm';
import { RevokedSessionRef, RevokedSessions } from '../../application/ports/revoked-sessions.port';
import { listRevokedSinceSql } from './revoked-sessions.sql';
import { DEFAULT_SESSIONS_SCHEMA } from './schema-name';
import { ManagerSource, rowsOf } from './sql-rows';

/** Revoked sessions, from the `sessions` table, for the cache repair. */
export class TypeOrmRevokedSessions implements RevokedSessions {
  constructor(
    private readonly managers: ManagerSource,
    private readonly schema: string = DEFAULT_SESSIONS_SCHEMA,
  ) {}

  private get manager(): EntityManager {
    return this.managers();
  }

  async listSince(since: Date): Promise<RevokedSessionRef[]> {
    const rows = await rowsOf<{ id: string; user_id: string }>(this.manager, listRevokedSinceSql(this.schema), [since]);
    return rows.map((row) => ({ userId: row.user_id, sessionId: row.id }));
  }
}
