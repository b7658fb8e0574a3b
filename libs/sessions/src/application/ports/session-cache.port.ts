/**
 * What the auth check may remember about a session between requests. An entry is either
 * "active" (a trusted answer for a short while) or "revoked" (a marker that outlives every
 * access token of the session). A revocation always overwrites; a refill never does, so a
 * request that read the session before a revocation cannot write "active" back over it.
 */
export type CachedSessionState = 'active' | 'revoked';

/** What the heartbeat learns about the dataset behind the cache, to notice that it was replaced. */
export interface CacheProbe {
  /** The server process holding the data (Redis INFO `run_id`); null when the server will not say. */
  readonly serverId: string | null;
  /**
   * A counter in the dataset that every probe increments: it only ever grows while the dataset is
   * the same one, so a value not above the last one seen means the data went back (a restore from
   * an older snapshot, a lagging replica promoted, a flush).
   */
  readonly epoch: number;
}

export interface SessionCache {
  /** null when nothing is cached. */
  get(userId: string, sessionId: string): Promise<CachedSessionState | null>;
  /** Remembers an active session unless an entry for it already exists. */
  rememberActive(userId: string, sessionId: string, ttlSeconds: number): Promise<void>;
  /** Marks sessions revoked, replacing whatever was cached for them. */
  markRevoked(userId: string, sessionIds: readonly string[], ttlSeconds: number): Promise<void>;
  /** Resolves when the cache answers; rejects otherwise (health checks). */
  ping(): Promise<void>;
  /** Bumps the dataset's epoch and says who holds it; rejects when the cache does not answer. */
  probe(): Promise<CacheProbe>;
  /**
   * Calls `listener` as soon as the connection errors, drops or starts reconnecting, before any
   * call has failed: Redis may come back within milliseconds from an older snapshot.
   */
  onConnectionLost(listener: (reason: string) => void): void;
  /** Human-readable name of the backing store, for logs and health output. */
  readonly description: string;
  /**
   * Which dataset and keys the markers land in (a Redis server and database plus the key
   * prefix; or this process's memory): instances with the same namespace share their markers,
   * every other namespace on the database gets them queued (cache_marker_outbox).
   */
  readonly namespace: string;
}
export const SESSION_CACHE = Symbol('SessionCache');
