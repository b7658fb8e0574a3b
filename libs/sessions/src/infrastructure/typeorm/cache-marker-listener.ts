import { Logger } from '@nestjs/common';
import { Client, ClientConfig } from 'pg';
import { CACHE_MARKER_CHANNEL } from './cache-marker-outbox.sql';

/**
 * LISTENs on a connection of its own (not one of the pool's: a listening connection must stay
 * open and out of transactions) and calls `onQueued` when markers for `namespace` are committed,
 * so they are written within milliseconds instead of at the next heartbeat. A lost connection
 * is reopened every second; `onQueued` is called after each (re)connect, since notifications
 * sent meanwhile are gone. The heartbeat's drain stays the fallback.
 */
export class CacheMarkerListener {
  private readonly logger = new Logger('CacheMarkerListener');
  private client: Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  private failing = false;

  constructor(
    private readonly config: ClientConfig,
    private readonly namespace: string,
    private readonly onQueued: () => void,
    /** Notifications from this origin are ignored (the outbox that queued them writes them itself). */
    private readonly ownOrigin: string | null = null,
  ) {}

  start(): void {
    void this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new Client(this.config);
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
      if (!this.failing && !this.closed) {
        this.failing = true;
        this.logger.warn({ msg: 'cache_marker_listener_lost', error: error?.message ?? 'connection ended', fallback: 'heartbeat' });
      }
      if (!this.closed && !this.retry) {
        this.retry = setTimeout(() => {
          this.retry = undefined;
          void this.connect();
        }, 1_000);
        this.retry.unref();
      }
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      if (message.channel === CACHE_MARKER_CHANNEL && this.concernsUs(message.payload)) this.onQueued();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CACHE_MARKER_CHANNEL}`);
    } catch (error) {
      onLost(error as Error);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    if (this.failing) this.logger.log({ msg: 'cache_marker_listener_restored' });
    this.failing = false;
    this.onQueued();
  }

  /** `{"namespace", "origin"}`; a bare namespace is what instances before the origin field send. */
  private concernsUs(payload: string | undefined): boolean {
    if (payload === undefined) return false;
    if (payload === this.namespace) return true;
    try {
      const { namespace, origin } = JSON.parse(payload) as { namespace?: unknown; origin?: unknown };
      return namespace === this.namespace && (this.ownOrigin === null || origin !== this.ownOrigin);
    } catch {
      return false;
    }
  }
}
