import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { CacheMarkerOutbox, CacheMarkerOutboxWrites, CacheMarkerTarget } from '../../application/ports/cache-marker-outbox.port';
import { RevokedSessionRef } from '../../application/ports/revoked-sessions.port';
import { CacheMarkerListener } from './cache-marker-listener';
import {
  countQueuedCacheMarkersSql,
  deleteCacheMarkersSql,
  deleteGoneCacheNamespacesSql,
  deleteStaleCacheMarkersSql,
  enqueueCacheMarkersSql,
  lockCacheNamespacesSql,
  selectQueuedCacheMarkersSql,
  touchLiveCacheNamespaceSql,
  upsertCacheNamespaceSql,
} from './cache-marker-outbox.sql';
import { DEFAULT_SESSIONS_SCHEMA } from './schema-name';
import { ManagerSource, rowsOf } from './sql-rows';

/**
 * The `cache_marker_outbox` and `cache_namespaces` tables. enqueue goes through the manager its
 * source gives (a unit of work's); the housekeeping (drain, registerNamespace) commits on its own.
 */
export class TypeOrmCacheMarkerOutbox implements CacheMarkerOutbox, CacheMarkerOutboxWrites {
  constructor(
    private readonly dataSource: DataSource,
    private readonly managers: ManagerSource,
    /** The library's PostgreSQL schema (see sessionsSchemaName). */
    private readonly schema: string = DEFAULT_SESSIONS_SCHEMA,
    /**
     * Names the markers queued through this outbox in their notifications, and its listener
     * ignores notifications of that name: the instance that queued markers writes its own
     * namespace's after the commit itself, and a drain of the same rows would only repeat that
     * write (one more transaction and pipeline per revocation). The namespace's other instances
     * still drain them at once, which matters if the revoker dies first. One per unit of work
     * (TypeOrmUnitOfWork.origin), shared by its transactions' outboxes and the injected one.
     */
    private readonly origin: string = randomUUID(),
  ) {}

  private get manager(): EntityManager {
    return this.managers();
  }

  async enqueue(userId: string, sessionIds: readonly string[], target: CacheMarkerTarget): Promise<number> {
    if (sessionIds.length === 0) return 0;
    const notified = await rowsOf(this.manager, enqueueCacheMarkersSql(this.schema), [target.liveWithinSeconds, target.own, userId, sessionIds, this.origin]);
    return notified.length;
  }

  async depth(): Promise<number> {
    const [row] = await rowsOf<{ depth: number }>(this.dataSource.manager, countQueuedCacheMarkersSql(this.schema), []);
    return row?.depth ?? 0;
  }

  async drain(namespace: string, limit: number, write: (markers: RevokedSessionRef[]) => Promise<void>): Promise<number> {
    // Outside the ambient transaction of any caller: this is housekeeping with its own commit.
    return this.dataSource.transaction(async (manager) => {
      const rows = await rowsOf<{ id: string; user_id: string; session_id: string }>(manager, selectQueuedCacheMarkersSql(this.schema), [namespace, limit]);
      if (rows.length === 0) return 0;
      await write(rows.map((row) => ({ userId: row.user_id, sessionId: row.session_id })));
      await manager.query(deleteCacheMarkersSql(this.schema), [rows.map((row) => row.id)]);
      return rows.length;
    });
  }

  async registerNamespace(namespace: string, liveWithinSeconds: number): Promise<'live' | 'registered'> {
    // Outside any caller's transaction, like the drain. Two transactions: the lock below must not be
    // an upgrade of the row lock this UPDATE takes (two instances upgrading at once would deadlock).
    const touched = await this.dataSource.transaction(async (manager) => {
      await manager.query(deleteStaleCacheMarkersSql(this.schema), [liveWithinSeconds]);
      return rowsOf(manager, touchLiveCacheNamespaceSql(this.schema), [namespace, liveWithinSeconds]);
    });
    if (touched.length > 0) return 'live';
    return this.dataSource.transaction(async (manager) => {
      await manager.query(lockCacheNamespacesSql(this.schema));
      await manager.query(upsertCacheNamespaceSql(this.schema), [namespace]);
      await manager.query(deleteGoneCacheNamespacesSql(this.schema), [liveWithinSeconds * 10]);
      return 'registered' as const;
    });
  }

  listen(namespace: string, onQueued: () => void): { close(): Promise<void> } | null {
    // The pool's own connection settings (TypeORM builds them from the data source's options).
    const config = (this.dataSource.driver as unknown as { master?: { options?: Record<string, unknown> } }).master?.options;
    if (!config) return null;
    const listener = new CacheMarkerListener({ ...config, application_name: 'cache-marker-listener' }, namespace, onQueued, this.origin);
    listener.start();
    return listener;
  }
}
