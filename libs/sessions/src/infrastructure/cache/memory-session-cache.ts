import { randomUUID } from 'node:crypto';
import { CacheProbe, CachedSessionState, SessionCache } from '../../application/ports/session-cache.port';
import { revocationTtl } from './revocation-ttl';

export interface MemorySessionCacheOptions {
  /** Instances with the same prefix share their entries (see `shared`). */
  readonly keyPrefix: string;
  /** Milliseconds since the epoch; injectable so tests need not sleep. */
  readonly now?: () => number;
  /** Sweep expired entries every this many writes. Default 1,000. */
  readonly sweepEvery?: number;
  /**
   * Above this many entries, new "active" entries are not stored (a miss only costs a query).
   * Revocation markers are always stored: dropping one would be unsafe. Default 100,000.
   */
  readonly maxEntries?: number;
}

interface Entry {
  readonly state: CachedSessionState;
  readonly expiresAt: number;
}

interface SharedEntries {
  readonly entries: Map<string, Entry>;
  writesSinceSweep: number;
  epoch: number;
}

/** This process's memory is its own dataset. */
const PROCESS_DATASET = `memory:${randomUUID()}`;

/**
 * One Map per key prefix for the whole process: the web API and the admin console may run
 * as two Nest apps in one process, and a revocation made through one must be seen by the other.
 */
const shared = new Map<string, SharedEntries>();

function entriesFor(keyPrefix: string): SharedEntries {
  let found = shared.get(keyPrefix);
  if (!found) {
    found = { entries: new Map(), writesSinceSweep: 0, epoch: 0 };
    shared.set(keyPrefix, found);
  }
  return found;
}

/** In-process stand-in for Redis (embedded and dev mode); same semantics as RedisSessionCache. */
export class MemorySessionCache implements SessionCache {
  readonly description = 'in-process memory';
  readonly namespace: string;
  private readonly store: SharedEntries;
  private readonly now: () => number;
  private readonly sweepEvery: number;
  private readonly maxEntries: number;

  constructor(options: MemorySessionCacheOptions) {
    this.store = entriesFor(options.keyPrefix);
    this.namespace = `${PROCESS_DATASET} ${options.keyPrefix}`;
    this.now = options.now ?? Date.now;
    this.sweepEvery = Math.max(1, options.sweepEvery ?? 1_000);
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  async get(userId: string, sessionId: string): Promise<CachedSessionState | null> {
    const key = entryKey(userId, sessionId);
    const entry = this.store.entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.now()) {
      this.store.entries.delete(key);
      return null;
    }
    return entry.state;
  }

  async rememberActive(userId: string, sessionId: string, ttlSeconds: number): Promise<void> {
    const ttl = Math.floor(ttlSeconds);
    if (!(ttl > 0)) return;
    // Same as SET NX: an existing entry (above all a revocation marker) wins over a refill.
    if ((await this.get(userId, sessionId)) !== null) return;
    this.maybeSweep();
    if (this.store.entries.size >= this.maxEntries) return;
    this.store.entries.set(entryKey(userId, sessionId), { state: 'active', expiresAt: this.now() + ttl * 1000 });
  }

  async markRevoked(userId: string, sessionIds: readonly string[], ttlSeconds: number): Promise<void> {
    if (sessionIds.length === 0) return;
    const expiresAt = this.now() + revocationTtl(ttlSeconds) * 1000;
    for (const sessionId of sessionIds) {
      this.store.entries.set(entryKey(userId, sessionId), { state: 'revoked', expiresAt });
    }
    this.maybeSweep(sessionIds.length);
  }

  async ping(): Promise<void> {}

  async probe(): Promise<CacheProbe> {
    this.store.epoch += 1;
    return { serverId: PROCESS_DATASET, epoch: this.store.epoch };
  }

  /** Memory has no connection to lose. */
  onConnectionLost(): void {}

  private maybeSweep(writes = 1): void {
    this.store.writesSinceSweep += writes;
    if (this.store.writesSinceSweep < this.sweepEvery) return;
    this.store.writesSinceSweep = 0;
    const now = this.now();
    for (const [key, entry] of this.store.entries) {
      if (entry.expiresAt <= now) this.store.entries.delete(key);
    }
  }
}

// Ids never contain NUL, so no two (userId, sessionId) pairs can collide on one key.
/** Lower case, as in the Redis keys (see sessionCacheKey). */
function entryKey(userId: string, sessionId: string): string {
  return `${userId.toLowerCase()}\u0000${sessionId.toLowerCase()}`;
}
