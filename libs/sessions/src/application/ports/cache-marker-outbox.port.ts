import { RevokedSessionRef } from './revoked-sessions.port';

export interface CacheMarkerTarget {
  /** The namespace of the revoking instance's cache: always queued for, live or not (its instances may outlive this one). */
  readonly own: string;
  readonly liveWithinSeconds: number;
}

/**
 * The revocation markers queued for the session caches (cache_marker_outbox), and the cache
 * namespaces they are queued for (cache_namespaces). Housekeeping: each call commits on its own,
 * outside any caller's unit of work.
 */
export interface CacheMarkerOutbox {
  /**
   * Hands up to `limit` markers queued for `namespace` to `write`; they are removed only if it
   * succeeds. Returns how many were written. Concurrent callers take different markers.
   */
  drain(namespace: string, limit: number, write: (markers: RevokedSessionRef[]) => Promise<void>): Promise<number>;
  /**
   * Says this namespace is live, so revocations queue markers for it. 'live' when it already was
   * (seen within `liveWithinSeconds`): no revocation skipped it. 'registered' when it was not:
   * revocations may have skipped it until now; the registration waits for every revocation that
   * read the namespace list before it to commit, so a repair that lists revocations after this
   * returns sees them all. Also drops queued markers older than `liveWithinSeconds` (moot by then).
   */
  registerNamespace(namespace: string, liveWithinSeconds: number): Promise<'live' | 'registered'>;
  /**
   * Calls `onQueued` soon after markers for `namespace` are committed (and once it starts
   * listening, for what was queued before). null when the outbox cannot tell; the heartbeat's
   * drain then is the only one.
   */
  listen(namespace: string, onQueued: () => void): { close(): Promise<void> } | null;
  /** How many markers are queued and not yet written, for every namespace (a gauge for operators). */
  depth(): Promise<number>;
}
export const CACHE_MARKER_OUTBOX = Symbol('CacheMarkerOutbox');

/** The outbox, as a unit of work fills it (`tx.outbox`). */
export interface CacheMarkerOutboxWrites {
  /**
   * Queues revocation markers, committed with the revocation, for every cache namespace seen
   * within `target.liveWithinSeconds` and for `target.own`: the instances of each namespace write
   * their own, so the markers outlive the revoking process should it die right after the commit.
   * Holds a share lock on the namespace list until commit (see registerNamespace). Returns how
   * many namespaces the markers were queued for.
   */
  enqueue(userId: string, sessionIds: readonly string[], target: CacheMarkerTarget): Promise<number>;
}
