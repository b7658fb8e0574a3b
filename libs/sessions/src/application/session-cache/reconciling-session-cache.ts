import { Logger } from '@nestjs/common';
import { cacheNamespaceLiveSeconds, revocationMarkerTtlSeconds, SessionLifetimes } from '../../domain/session-rules';
import { Clock } from '../ports/clock.port';
import { CacheProbe, CachedSessionState, SessionCache } from '../ports/session-cache.port';
import { CacheMarkerOutbox } from '../ports/cache-marker-outbox.port';
import { RevokedSessionRef, RevokedSessions } from '../ports/revoked-sessions.port';
import { SESSIONS_DEFAULTS } from '../../sessions.options';

export interface ReconcilingSessionCacheOptions {
  readonly lifetimes: SessionLifetimes;
  /** How often the cache is probed, and retried while distrusted. Default: SESSIONS_DEFAULTS.cacheHeartbeatMs. */
  readonly heartbeatMs?: number;
  /**
   * Slack for clocks, in-flight writes and the time between heartbeats when choosing which
   * revocations to re-mark (on top of the active-entry TTL). Default 60 s.
   */
  readonly marginSeconds?: number;
  /** How often the cache namespace is marked live in PostgreSQL (cache_namespaces). Default 5,000 ms. */
  readonly namespaceTouchMs?: number;
  /**
   * Write markers queued for this namespace as soon as the outbox says they were committed
   * (PostgreSQL LISTEN/NOTIFY), not only at the next heartbeat. Default true; off for the
   * embedded database, whose sockets share one session.
   */
  readonly listen?: boolean;
  /** Told each time trust is lost (at start-up too) and restored; see SessionsObserver.cacheTrust. */
  readonly onTrustChange?: (trusted: boolean) => void;
}

/**
 * What a cache write that failed means, and how it is repaired.
 *
 * A revocation commits in PostgreSQL and then writes a "revoked" marker. If the marker write
 * fails (Redis down, or just unreachable), the revocation still holds for every request this
 * instance answers from PostgreSQL, but Redis may still hold an "active" entry for the session
 * (written before the outage, trusted for up to a minute). When Redis comes back with its data,
 * that entry would let the revoked session in.
 *
 * So this wrapper distrusts the cache from the first failure it sees (of any call, or of the
 * heartbeat that probes the cache every second, which also catches outages on an idle
 * instance): reads are not sent to the cache and go to PostgreSQL instead. Once the cache
 * answers again, every session revoked since shortly before the first failure is marked
 * revoked again from PostgreSQL, and only then is the cache trusted again.
 *
 * A call failing is not the only sign. Redis can be killed and be back from an older snapshot
 * (RDB, a lagging replica promoted) between two heartbeats without any call failing, holding
 * "active" entries for sessions revoked since the snapshot and missing their markers. So the
 * cache is also distrusted the moment the client reports its connection errored, dropped or is
 * reconnecting, and whenever a heartbeat finds another server (`run_id`) or an epoch counter
 * that did not grow (the data went back). An "active" entry that came back lives at most the
 * active TTL from now, and it can only belong to a session revoked after it was written, so the
 * repair re-marks every revocation since the distrust began minus that TTL and the margin.
 *
 * Other deployments on the database queue markers for this cache's namespace while it is live
 * (cache_namespaces). It is registered before the cache is trusted, kept live every few seconds,
 * and the cache is distrusted if that fails for half the time others keep queuing for it.
 */
export class ReconcilingSessionCache implements SessionCache {
  private readonly logger = new Logger('SessionCache');
  private readonly heartbeatMs: number;
  private readonly marginSeconds: number;
  /** null while trusted; otherwise when the first failure was seen. */
  private distrustedSince: Date | null = null;
  /** Counts failures, so a repair pass that overlapped a new failure does not restore trust. */
  private failures = 0;
  /**
   * Whether the cache failed (an error, a lost connection, a changed dataset) since it was last
   * trusted, as opposed to the distrust every start begins with: only then is the repair a warning.
   */
  private failedSinceTrusted = false;
  private timer: NodeJS.Timeout | undefined;
  private reconciling: Promise<void> | undefined;
  /** What the last probe answered: the dataset this instance has been trusting. */
  private lastProbe: CacheProbe | undefined;
  /** When the namespace was last marked live (clock milliseconds). */
  private lastRegisteredAt: number | undefined;
  private readonly namespaceTouchMs: number;
  private listener: { close(): Promise<void> } | null = null;
  private draining: Promise<void> | undefined;
  private drainAgain = false;
  private touching = false;

  constructor(
    private readonly inner: SessionCache,
    private readonly outbox: Pick<CacheMarkerOutbox, 'drain' | 'registerNamespace'> & Partial<Pick<CacheMarkerOutbox, 'listen'>>,
    private readonly revokedSessions: RevokedSessions,
    private readonly clock: Clock,
    private readonly options: ReconcilingSessionCacheOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? SESSIONS_DEFAULTS.cacheHeartbeatMs;
    this.marginSeconds = options.marginSeconds ?? 60;
    this.namespaceTouchMs = options.namespaceTouchMs ?? 5_000;
    inner.onConnectionLost((reason) => this.distrust(new Error(reason)));
  }

  get description(): string {
    return this.inner.description;
  }

  get namespace(): string {
    return this.inner.namespace;
  }

  /** True while the cache is not trusted (an outage, or repairs after one). */
  get distrusted(): boolean {
    return this.distrustedSince !== null;
  }

  /**
   * Starts distrusted: a previous process may have died in an outage, leaving "active" entries
   * in Redis for sessions it revoked but could not mark. Such an entry lives at most the active
   * TTL, so re-marking what was revoked since then (and the margin) makes the cache safe again.
   */
  async start(): Promise<void> {
    if (this.timer) return;
    this.failures += 1;
    this.distrustedSince ??= this.clock.now();
    this.options.onTrustChange?.(false);
    this.timer = setInterval(() => void this.heartbeat(), this.heartbeatMs);
    this.timer.unref();
    if (this.options.listen !== false) this.listener = this.outbox.listen?.(this.namespace, () => void this.drainQueued()) ?? null;
    await this.heartbeat();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const listener = this.listener;
    this.listener = null;
    await listener?.close();
  }

  async get(userId: string, sessionId: string): Promise<CachedSessionState | null> {
    if (this.distrustedSince) return null;
    return this.guard(() => this.inner.get(userId, sessionId));
  }

  async rememberActive(userId: string, sessionId: string, ttlSeconds: number): Promise<void> {
    // While distrusted, nothing read from PostgreSQL is written back: reconciliation comes first.
    if (this.distrustedSince) return;
    await this.guard(() => this.inner.rememberActive(userId, sessionId, ttlSeconds));
  }

  async markRevoked(userId: string, sessionIds: readonly string[], ttlSeconds: number): Promise<void> {
    await this.guard(() => this.inner.markRevoked(userId, sessionIds, ttlSeconds));
  }

  async ping(): Promise<void> {
    await this.inner.ping();
  }

  probe(): Promise<CacheProbe> {
    return this.inner.probe();
  }

  onConnectionLost(listener: (reason: string) => void): void {
    this.inner.onConnectionLost(listener);
  }

  /** Probes the cache; repairs it when it answers again after a failure or a change of dataset. */
  async heartbeat(): Promise<void> {
    if (this.reconciling) return this.reconciling;
    if (!(await this.checkDataset())) return;
    if (this.distrustedSince) {
      this.reconciling = this.reconcile(this.distrustedSince).finally(() => (this.reconciling = undefined));
      await this.reconciling;
    }
    if (!this.distrustedSince) await this.keepNamespaceLive();
    await this.drainQueued();
  }

  /**
   * Writes what is queued for this namespace, one pass at a time; a call during a pass asks for
   * another. Nothing while distrusted: the repair re-marks everything, then the heartbeat drains.
   */
  private drainQueued(): Promise<void> {
    if (this.distrustedSince) return Promise.resolve();
    if (this.draining) {
      this.drainAgain = true;
      return this.draining;
    }
    this.draining = (async () => {
      do {
        this.drainAgain = false;
        await this.writeQueuedMarkers();
      } while (this.drainAgain && !this.distrustedSince);
    })().finally(() => (this.draining = undefined));
    return this.draining;
  }

  private get namespaceLiveSeconds(): number {
    return cacheNamespaceLiveSeconds(this.options.lifetimes);
  }

  private async registerNamespace(): Promise<'live' | 'registered'> {
    const at = this.clock.now().getTime();
    const result = await this.outbox.registerNamespace(this.namespace, this.namespaceLiveSeconds);
    this.lastRegisteredAt = at;
    return result;
  }

  /** Others stop queuing markers for a namespace not seen for a while; never trust past that. */
  private async keepNamespaceLive(): Promise<void> {
    const now = this.clock.now().getTime();
    if (this.lastRegisteredAt !== undefined && now - this.lastRegisteredAt < this.namespaceTouchMs) return;
    // One at a time: with the database unreachable each attempt waits for its connect timeout.
    if (this.touching) return;
    this.touching = true;
    try {
      if ((await this.registerNamespace()) === 'registered') {
        this.distrust(new Error('the cache namespace had lapsed: revocations may not have queued markers for it'));
      }
    } catch (error) {
      if (this.lastRegisteredAt === undefined || now - this.lastRegisteredAt > (this.namespaceLiveSeconds * 1000) / 2) this.distrust(error);
      else this.logger.warn({ msg: 'cache_namespace_touch_failed', error: (error as Error).message });
    } finally {
      this.touching = false;
    }
  }

  /** Markers queued for this namespace: by an instance that lost the cache, or by another deployment. */
  private async writeQueuedMarkers(): Promise<void> {
    const ttl = revocationMarkerTtlSeconds(this.options.lifetimes);
    try {
      const written = await this.outbox.drain(this.namespace, 1_000, async (markers) => {
        for (const [userId, sessionIds] of groupByUser(markers)) await this.inner.markRevoked(userId, sessionIds, ttl);
      });
      if (written > 0) this.logger.warn({ msg: 'queued_revocation_markers_written', count: written });
    } catch (error) {
      this.logger.warn({ msg: 'queued_revocation_markers_failed', error: (error as Error).message });
    }
  }

  /**
   * Probes the cache: false when it did not answer. Distrusts it when the dataset is not the one
   * the last probe saw: another server, or an epoch that did not grow.
   */
  private async checkDataset(): Promise<boolean> {
    let probe: CacheProbe;
    try {
      probe = await this.inner.probe();
    } catch (error) {
      this.distrust(error);
      return false;
    }
    const last = this.lastProbe;
    this.lastProbe = probe;
    if (last && probe.serverId !== last.serverId) {
      this.distrust(new Error(`the cache server changed (run_id ${last.serverId ?? 'unknown'} -> ${probe.serverId ?? 'unknown'})`));
    } else if (last && probe.epoch <= last.epoch) {
      this.distrust(new Error(`the cache epoch went back (${last.epoch} -> ${probe.epoch}): its data was replaced`));
    }
    return true;
  }

  private async reconcile(since: Date): Promise<void> {
    const failuresBefore = this.failures;
    const from = new Date(since.getTime() - (this.options.lifetimes.activeCacheTtlSeconds + this.marginSeconds) * 1000);
    try {
      // First: from now on every revocation queues for this namespace, or has committed before the list below.
      await this.registerNamespace();
      const revoked = await this.revokedSessions.listSince(from);
      const ttl = revocationMarkerTtlSeconds(this.options.lifetimes);
      for (const [userId, sessionIds] of groupByUser(revoked)) await this.inner.markRevoked(userId, sessionIds, ttl);
      // The markers must have reached the dataset the next requests read: probe again.
      if (!(await this.checkDataset())) return;
      // Only a pass with no failure anywhere meanwhile restores trust; otherwise the next heartbeat repeats it.
      if (this.failures !== failuresBefore) return;
      this.distrustedSince = null;
      this.options.onTrustChange?.(true);
      // A clean start re-marks the recent revocations as a precaution, nothing was wrong: info. After a failure: warn.
      const cause = this.failedSinceTrusted ? 'failure' : 'startup';
      this.failedSinceTrusted = false;
      const line = { msg: 'session_cache_reconciled', cause, remarkedSessions: revoked.length, since: from.toISOString() };
      if (cause === 'failure') this.logger.warn(line);
      else this.logger.log(line);
    } catch (error) {
      this.logger.warn({ msg: 'session_cache_reconcile_failed', error: (error as Error).message });
    }
  }

  private async guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      this.distrust(error);
      throw error;
    }
  }

  private distrust(error: unknown): void {
    this.failures += 1;
    this.failedSinceTrusted = true;
    if (this.distrustedSince) return;
    this.distrustedSince = this.clock.now();
    this.options.onTrustChange?.(false);
    this.logger.warn({ msg: 'session_cache_distrusted', reason: (error as Error).message, fallback: 'postgres' });
  }
}

function groupByUser(refs: readonly RevokedSessionRef[]): Map<string, string[]> {
  const byUser = new Map<string, string[]>();
  for (const { userId, sessionId } of refs) {
    const ids = byUser.get(userId);
    if (ids) ids.push(sessionId);
    else byUser.set(userId, [sessionId]);
  }
  return byUser;
}
