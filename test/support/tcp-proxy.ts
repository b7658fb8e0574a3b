import net from 'node:net';

/**
 * A TCP proxy a test controls, put between the service and a dependency (PostgreSQL) to cut the
 * network under it. `cut()` destroys every live connection at once (both ends, as a dropped
 * link or a restarted server would) and then, until `restore()`, treats new connections as
 * `refuse` (accepted and reset at once: the client errors immediately) or `blackhole` (accepted
 * and never answered: the client waits for its own timeout).
 */
export type CutMode = 'refuse' | 'blackhole';

export interface TcpProxyStats {
  /** Connections accepted and forwarded. */
  readonly forwarded: number;
  /** Live connections destroyed by cut(). */
  readonly destroyedByCut: number;
  /** Connections that arrived during a cut and were reset or held. */
  readonly refused: number;
  readonly blackholed: number;
}

export class TcpProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private readonly held = new Set<net.Socket>();
  private mode: CutMode | null = null;
  private counts = { forwarded: 0, destroyedByCut: 0, refused: 0, blackholed: 0 };

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = net.createServer((client) => this.accept(client));
  }

  /** Listens on a free port of 127.0.0.1. */
  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get isCut(): boolean {
    return this.mode !== null;
  }

  get stats(): TcpProxyStats {
    return { ...this.counts };
  }

  get liveConnections(): number {
    return this.pairs.size;
  }

  /** Destroys every live connection and refuses or black-holes new ones until restore(). */
  cut(mode: CutMode = 'refuse'): void {
    this.mode = mode;
    for (const pair of this.pairs) {
      this.counts.destroyedByCut += 1;
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Forwards new connections again; connections held by a black hole are reset. */
  restore(): void {
    this.mode = null;
    for (const socket of this.held) socket.destroy();
    this.held.clear();
  }

  async close(): Promise<void> {
    this.cut('refuse');
    this.restore();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.mode === 'refuse') {
      this.counts.refused += 1;
      client.resetAndDestroy();
      return;
    }
    if (this.mode === 'blackhole') {
      this.counts.blackholed += 1;
      this.held.add(client);
      client.on('close', () => this.held.delete(client));
      return;
    }
    this.counts.forwarded += 1;
    const upstream = net.connect(this.targetPort, this.targetHost);
    upstream.on('error', () => undefined);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
