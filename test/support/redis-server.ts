import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from './service-process';

/**
 * A redis-server of a test's own on a spare port, for tests that kill, pause or restart it (the
 * shared one on 6379 is never touched). With `persistent`, every write is fsynced to an
 * append-only file, so a restart (`start()` again, same port) brings back exactly the keys it
 * held when it died: the way a real Redis comes back with stale entries.
 */
export interface RedisServerOptions {
  readonly persistent?: boolean;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class RedisServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly persistent: boolean,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), mkdtempSync(path.join(tmpdir(), 'resilience-redis-')), options.persistent ?? false);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts (or starts again) on `port` (default: its own), from its data directory; resolves once it answers PING. */
  async start(port = this.port): Promise<void> {
    if (this.running) throw new Error('redis-server is already running');
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', this.dir, '--daemonize', 'no', '--loglevel', 'warning'];
    if (this.persistent) args.push('--appendonly', 'yes', '--appendfsync', 'always');
    else args.push('--appendonly', 'no');
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    this.child = child;
    live.add(child);
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        live.delete(child);
        resolve();
      });
    });
    try {
      await waitFor(
        `redis-server on port ${port} to answer PING`,
        async () => {
          if (!this.running) throw new Error(`redis-server exited: ${output.join('')}`);
          return (await ping(port)) || undefined;
        },
        10_000,
      );
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  /** Sends the signal; for SIGKILL and SIGTERM waits until the process is gone. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    if (!this.child || !this.running) throw new Error('redis-server is not running');
    this.child.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await this.exited;
  }

  /** Kills it if still running and removes its data directory. Idempotent. */
  async stop(): Promise<void> {
    if (this.running) {
      this.child!.kill('SIGKILL');
      await this.exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** True when a Redis on the port answers PING within a second. */
export function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
