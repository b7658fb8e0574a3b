import { DataSource, EntityManager } from 'typeorm';
import { CacheMarkerOutbox, CacheMarkerOutboxWrites, CacheMarkerTarget } from '../../application/ports/cache-marker-outbox.port';
import { RevokedSessionRef } from '../../application/ports/revoked-sessions.port';
import { CacheMarkerListener } from './cache-marker-listener';
import {
  deleteCacheMarkersSql,
  deleteGoneCacheNamespacesSql,
  deleteStaleCacheMarkersSql,
  insertCacheMarkersSql,
  lockCacheNamespacesSql,
  selectLiveCacheNamespacesSql,
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
  ) {}

  private get manager(): EntityManager {
    return this.managers();
  }

  async enqueue(userId: string, sessionIds: readonly string[], target: CacheMarkerTarget): Promise<number> {
    if (sessionIds.length === 0) return 0;
    // Its lock on cache_namespaces lasts until commit (see selectLiveCacheNamespacesSql).
    const live = await rowsOf<{ namespace: string }>(this.manager, selectLiveCacheNamespacesSql(this.schema), [target.liveWithinSeconds]);
    const namespaces = new Set([...live.map((row) => row.namespace), target.own]);
    await this.manager.query(insertCacheMarkersSql(this.schema), [[...namespaces], userId, sessionIds]);
    return namespaces.size;
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
    const listener = new CacheMarkerListener({ ...config, application_name: 'cache-marker-listener' }, namespace, onQueued);
    listener.start();
    return listener;
  }
}
