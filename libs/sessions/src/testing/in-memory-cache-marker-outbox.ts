import { CacheMarkerOutbox, CacheMarkerOutboxWrites, CacheMarkerTarget } from '../application/ports/cache-marker-outbox.port';
import { RevokedSessionRef } from '../application/ports/revoked-sessions.port';
import { InMemoryDatabase, Tables } from './in-memory-database';

/**
 * The cache-marker outbox over an InMemoryDatabase. enqueue writes a unit of work's draft (and
 * notifies after its commit, as NOTIFY does); the housekeeping works on the committed rows.
 */
export class InMemoryCacheMarkerOutbox implements CacheMarkerOutbox, CacheMarkerOutboxWrites {
  constructor(
    private readonly db: InMemoryDatabase,
    private readonly tables: () => Tables = () => db.tables(),
    private readonly afterCommit: (callback: () => void) => void = (callback) => callback(),
  ) {}

  async enqueue(userId: string, sessionIds: readonly string[], target: CacheMarkerTarget): Promise<number> {
    this.db.takeFailure();
    if (sessionIds.length === 0) return 0;
    const since = this.db.now() - target.liveWithinSeconds * 1000;
    const namespaces = new Set([...this.db.namespaces].filter(([, seen]) => seen > since).map(([namespace]) => namespace));
    namespaces.add(target.own);
    for (const namespace of namespaces) this.tables().outbox.push(...sessionIds.map((sessionId) => ({ namespace, userId, sessionId })));
    this.afterCommit(() => this.db.notifyQueued(namespaces));
    return namespaces.size;
  }

  async depth(): Promise<number> {
    return this.db.outbox.length;
  }

  async drain(namespace: string, limit: number, write: (markers: RevokedSessionRef[]) => Promise<void>): Promise<number> {
    const batch = this.db.outbox.filter((marker) => marker.namespace === namespace).slice(0, limit);
    if (batch.length === 0) return 0;
    await write(batch.map(({ userId, sessionId }) => ({ userId, sessionId })));
    this.db.outbox = this.db.outbox.filter((marker) => !batch.includes(marker));
    return batch.length;
  }

  async registerNamespace(namespace: string, liveWithinSeconds: number): Promise<'live' | 'registered'> {
    const seen = this.db.namespaces.get(namespace);
    this.db.namespaces.set(namespace, this.db.now());
    return seen !== undefined && seen > this.db.now() - liveWithinSeconds * 1000 ? 'live' : 'registered';
  }

  listen(namespace: string, onQueued: () => void): { close(): Promise<void> } {
    return this.db.listen(namespace, onQueued);
  }
}
