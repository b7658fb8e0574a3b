import { RevokedSessionRef, RevokedSessions } from '../application/ports/revoked-sessions.port';
import { InMemoryDatabase, Tables } from './in-memory-database';

export class InMemoryRevokedSessions implements RevokedSessions {
  constructor(
    db: InMemoryDatabase,
    private readonly tables: () => Tables = () => db.tables(),
  ) {}

  async listSince(since: Date): Promise<RevokedSessionRef[]> {
    return [...this.tables().sessions.values()].filter((s) => s.revokedAt !== null && s.revokedAt >= since).map((s) => ({ userId: s.userId, sessionId: s.id }));
  }
}
