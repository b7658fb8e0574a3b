import { DataSource, EntityManager } from 'typeorm';
import {
  FEED_START,
  parseFeedCursor,
  RevocationFeed,
  RevocationFeedEntry,
  RevocationFeedPage,
  RevocationFeedWrites,
} from '../../application/ports/revocation-feed.port';
import { appendRevocationFeedSql, deleteExpiredRevocationFeedSql, readRevocationFeedSql } from './revocation-feed.sql';
import { DEFAULT_SESSIONS_SCHEMA } from './schema-name';
import { ManagerSource, rowsOf } from './sql-rows';

/**
 * The `revocation_feed` table. append goes through the manager its source gives (the revoking unit
 * of work's); read and deleteExpired through the pool, each statement its own transaction: read
 * must take a fresh snapshot (see readRevocationFeedSql).
 */
export class TypeOrmRevocationFeed implements RevocationFeed, RevocationFeedWrites {
  constructor(
    private readonly dataSource: DataSource,
    private readonly managers: ManagerSource = () => dataSource.manager,
    private readonly schema: string = DEFAULT_SESSIONS_SCHEMA,
  ) {}

  private get manager(): EntityManager {
    return this.managers();
  }

  async append(userId: string, sessionIds: readonly string[], revokedAt: Date, accessTokensValidUntil: Date): Promise<void> {
    if (sessionIds.length === 0) return;
    await this.manager.query(appendRevocationFeedSql(this.schema), [userId, sessionIds, revokedAt, accessTokensValidUntil]);
  }

  async read(after: string | undefined, limit: number): Promise<RevocationFeedPage> {
    const cursor = after ?? FEED_START;
    const position = parseFeedCursor(cursor);
    // The HTTP edge refuses a bad cursor with a 400 first (parseFeedCursor): reaching here is a bug.
    if (!position) throw new Error('after is not a cursor of this feed');
    const rows = await rowsOf<RevocationFeedEntry & { xid: string; id: string }>(this.dataSource.manager, readRevocationFeedSql(this.schema), [
      position.xid,
      position.id,
      limit,
    ]);
    const last = rows.at(-1);
    return {
      revocations: rows.map(({ sessionId, userId, revokedAt, accessTokensValidUntil }) => ({ sessionId, userId, revokedAt, accessTokensValidUntil })),
      nextCursor: last ? `${last.xid}-${last.id}` : cursor,
    };
  }

  async deleteExpired(cutoff: Date, limit: number): Promise<number> {
    return (await rowsOf(this.dataSource.manager, deleteExpiredRevocationFeedSql(this.schema), [cutoff, limit])).length;
  }
}
