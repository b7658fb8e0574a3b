import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { OFFLINE_ACCESS_TOKEN_OPTIONS, ResolvedOfflineAccessTokenOptions } from './offline-access-token.options';

interface FeedPage {
  readonly revocations: ReadonlyArray<{ readonly sessionId: string; readonly accessTokensValidUntil: string }>;
  readonly nextCursor: string;
}

/**
 * The deny list of a service that verifies access tokens offline, filled from the sessions
 * service's revocation feed: each revoked session until its accessTokensValidUntil (after it no
 * token of the session verifies anyway, and the entry goes). Polled every pollIntervalMs, each
 * poll reading pages until one comes back empty.
 *
 * The bound: a revocation committed at T is in every page read from a poll that starts after T
 * (and after any transaction older than it has ended: see the feed's ordering), so this service
 * refuses the session from at most pollIntervalMs plus one poll's requests after T. When no poll
 * has completed within maxFeedAgeMs, `fresh` is false and the guard refuses every token with 503:
 * without the feed, a revoked session would be accepted until its tokens expire.
 */
@Injectable()
export class OfflineRevocationList implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OfflineRevocationList.name);
  private readonly denied = new Map<string, number>();
  private cursor: string | undefined;
  /** When the last complete poll started (ms): everything committed before it was read. */
  private syncedFrom: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;

  constructor(@Inject(OFFLINE_ACCESS_TOKEN_OPTIONS) private readonly options: ResolvedOfflineAccessTokenOptions) {}

  /** The first poll before the app serves: it starts with the deny entries the feed holds. */
  async onApplicationBootstrap(): Promise<void> {
    await this.pollOnce();
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
  }

  /** Whether a poll completed recently enough for the list to be trusted. */
  get fresh(): boolean {
    return this.syncedFrom !== undefined && Date.now() - this.syncedFrom <= this.options.maxFeedAgeMs;
  }

  isRevoked(sessionId: string): boolean {
    const until = this.denied.get(sessionId);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.denied.delete(sessionId);
    return false;
  }

  /** Polls now (tests, and a host that wants a revocation seen at once). */
  async pollOnce(): Promise<void> {
    this.polling ??= this.readFeed().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.pollOnce().finally(() => this.schedule()), this.options.pollIntervalMs);
    this.timer.unref();
  }

  private async readFeed(): Promise<void> {
    const started = Date.now();
    try {
      for (;;) {
        const page = await this.page();
        for (const entry of page.revocations) {
          const until = Date.parse(entry.accessTokensValidUntil);
          if (until > Date.now()) this.denied.set(entry.sessionId, Math.max(until, this.denied.get(entry.sessionId) ?? 0));
        }
        this.cursor = page.nextCursor;
        if (page.revocations.length === 0) break;
      }
      this.syncedFrom = started;
      const now = Date.now();
      for (const [sessionId, until] of this.denied) if (until <= now) this.denied.delete(sessionId);
    } catch (error) {
      this.logger.warn({ msg: 'revocation_feed_poll_failed', error: (error as Error).message });
    }
  }

  private async page(): Promise<FeedPage> {
    const url = new URL(this.options.feedUrl);
    if (this.cursor !== undefined) url.searchParams.set('after', this.cursor);
    const response = await fetch(url, {
      headers: { Authorization: `Bearer ${this.options.serviceSecret}`, Accept: 'application/json' },
      signal: AbortSignal.timeout(this.options.requestTimeoutMs),
    });
    if (response.status !== 200) throw new Error(`the revocation feed answered ${response.status}`);
    return (await response.json()) as FeedPage;
  }
}
