import { DataSource, EntityManager } from 'typeorm';
import { CacheMarkerOutbox, CacheMarkerOutboxWrites, CacheMarkerTarget } from '../../application/ports/cache-marker-outbox.port';
import { RevokedSessionRef } from '../../application/ports/revoked-sessions.port';
import { CACHE_MARKER_CHANNEL, CacheMarkerListener } from './cache-marker-listener';
import { ManagerSource, rowsOf } from './sql-rows';

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
 * The `cache_marker_outbox` and `cache_namespaces` tables. enqueue goes through the manager its
 * source gives (a unit of work's); the housekeeping (drain, registerNamespace) commits on its own.
 */
export class TypeOrmCacheMarkerOutbox implements CacheMarkerOutbox, CacheMarkerOutboxWrites {
  constructor(
    private readonly dataSource: DataSource,
    private readonly managers: ManagerSource,
  ) {}

  private get manager(): EntityManager {
    return this.managers();
  }

  async enqueue(userId: string, sessionIds: readonly string[], target: CacheMarkerTarget): Promise<number> {
    if (sessionIds.length === 0) return 0;
    // A plain SELECT, but its ACCESS SHARE lock on cache_namespaces lasts until commit: a namespace
    // registering now waits for this transaction, so it either is listed here or sees this revocation.
    const live = await rowsOf<{ namespace: string }>(this.manager, SELECT_LIVE_CACHE_NAMESPACES, [target.liveWithinSeconds]);
    const namespaces = new Set([...live.map((row) => row.namespace), target.own]);
    await this.manager.query(INSERT_CACHE_MARKERS, [[...namespaces], userId, sessionIds]);
    return namespaces.size;
  }

  async drain(namespace: string, limit: number, write: (markers: RevokedSessionRef[]) => Promise<void>): Promise<number> {
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

  async registerNamespace(namespace: string, liveWithinSeconds: number): Promise<'live' | 'registered'> {
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

  listen(namespace: string, onQueued: () => void): { close(): Promise<void> } | null {
    // The pool's own connection settings (TypeORM builds them from the data source's options).
    const config = (this.dataSource.driver as unknown as { master?: { options?: Record<string, unknown> } }).master?.options;
    if (!config) return null;
    const listener = new CacheMarkerListener({ ...config, application_name: 'cache-marker-listener' }, namespace, onQueued);
    listener.start();
    return listener;
  }
}
