import net from 'node:net';

/** One service instance behind the proxy. */
export interface Backend {
  /** Names the backend in `connections` and in the tests' reports. */
  readonly name: string;
  readonly port: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
}

/**
 * A small round-robin TCP load balancer for tests that run several instances of the service:
 * each accepted client connection goes to the next backend in turn, and is piped to it unchanged
 * until either side closes. It balances connections, not requests, as a TCP (layer 4) balancer
 * does: a keep-alive connection stays with the backend it was given, so a test that wants its
 * requests spread sends `Connection: close` (harness.ts `Http` with `connection: 'close'`) or
 * uses several connections. `connections` counts what each backend was given, so a test can
 * assert that every instance served some, and that each request had a connection of its own.
 */
export class RoundRobinProxy {
  private readonly server: net.Server;
  private readonly live = new Set<net.Socket>();
  private readonly given: number[];
  private next = 0;

  private constructor(private readonly backends: readonly Backend[]) {
    if (backends.length === 0) throw new Error('a round-robin proxy needs at least one backend');
    this.given = backends.map(() => 0);
    this.server = net.createServer((client) => this.accept(client));
  }

  /** Listens on a free port of 127.0.0.1. */
  static async start(backends: readonly Backend[]): Promise<RoundRobinProxy> {
    const proxy = new RoundRobinProxy(backends);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Connections accepted so far, per backend name. */
  get connections(): Record<string, number> {
    return Object.fromEntries(this.backends.map((backend, i) => [backend.name, this.given[i]]));
  }

  /** All connections accepted so far. */
  get total(): number {
    return this.given.reduce((sum, count) => sum + count, 0);
  }

  /** Stops listening and destroys the connections still open. */
  async close(): Promise<void> {
    for (const socket of this.live) socket.destroy();
    this.live.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const index = this.next;
    this.next = (this.next + 1) % this.backends.length;
    this.given[index] += 1;
    const backend = this.backends[index];
    const upstream = net.connect(backend.port, backend.host ?? '127.0.0.1');
    for (const socket of [client, upstream]) {
      // A reset on one side resets the other: the client sees its connection fail, as behind a real balancer.
      socket.on('error', () => undefined);
      this.live.add(socket);
    }
    // One side gone: the other is closed once what it still has to write is written (destroySoon),
    // so a response the backend sent just before closing (Connection: close) reaches the client whole.
    const closed = (socket: net.Socket, other: net.Socket) => (hadError: boolean) => {
      this.live.delete(socket);
      if (hadError) other.destroy();
      else other.destroySoon();
    };
    client.on('close', closed(client, upstream));
    upstream.on('close', closed(upstream, client));
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
