import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { BENCH_HASHING, BENCH_SECRET, onCleanup, settle } from './support';

/** USER_HZ, 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

/** The swc build this file runs from (`.bench-build/`): `src/main.js` is the web API alone. */
export const BUILD_DIR = path.resolve(__dirname, '..');

/** The repository (or worktree) the bench was built from. */
export const REPO_ROOT = path.resolve(BUILD_DIR, '..');

export interface BenchServerOptions {
  readonly label: string;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly cachePrefix: string;
  /** Extra or overriding environment variables (BENCHMARK_AUTH_CHECK, ...). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra node flags (--cpu-prof, ...). */
  readonly nodeArgs?: readonly string[];
  /** Another build of the service (a baseline revision's `.bench-build`); default: this one. */
  readonly buildDir?: string;
}

export interface SpawnOptions {
  readonly label: string;
  /** The port the script listens on (it is told so through `env`). */
  readonly port: number;
  readonly script: string;
  readonly args?: readonly string[];
  readonly cwd: string;
  /** The child's whole environment (PATH is added): nothing of the bench's own leaks in. */
  readonly env: Readonly<Record<string, string>>;
  readonly nodeArgs?: readonly string[];
  readonly readyPath?: string;
}

/**
 * `node .bench-build/src/main.js` as a child process, configured as in production except for
 * NODE_ENV=development (the benchmark-only auth-check switch is refused in production) and rate
 * limits raised out of the way (a load test is exactly what they exist to stop).
 */
export class BenchServer {
  private readonly tail: string[] = [];
  /** performance-free wall clock of the spawn, to line profile samples up with load phases. */
  readonly spawnedAt = Date.now();

  private constructor(
    readonly label: string,
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  ) {
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.tail.push(line);
        if (this.tail.length > 40) this.tail.shift();
        if (process.env.BENCH_SERVER_LOGS === '1') process.stderr.write(`[${label}] ${line}\n`);
      });
    }
  }

  static async start(options: BenchServerOptions): Promise<BenchServer> {
    const port = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: options.databaseUrl,
      DATABASE_POOL_SIZE: '10',
      REDIS_URL: options.redisUrl,
      CACHE_KEY_PREFIX: options.cachePrefix,
      ACCESS_TOKEN_SECRET: BENCH_SECRET,
      ARGON2_MEMORY_KIB: String(BENCH_HASHING.memoryCostKiB),
      ARGON2_TIME_COST: String(BENCH_HASHING.timeCost),
      ARGON2_PARALLELISM: String(BENCH_HASHING.parallelism),
      RATE_LIMIT_PER_IP: '1000000',
      RATE_LIMIT_PER_ACCOUNT: '1000000',
      RATE_LIMIT_PER_USER: '1000000',
      RATE_LIMIT_PER_IP_AUTHENTICATED: '1000000',
      ...options.env,
    };
    const buildDir = options.buildDir ?? BUILD_DIR;
    // cwd is the build directory: a developer's .env in the repository must not leak in.
    return BenchServer.spawn({ label: options.label, port, script: path.join(buildDir, 'src', 'main.js'), cwd: buildDir, env, nodeArgs: options.nodeArgs });
  }

  /**
   * Any node server as a child process of the bench (the floor, a peer, the embedded launch):
   * answers once `readyPath` (default /health) answers 200 on `port`.
   */
  static async spawn(options: SpawnOptions): Promise<BenchServer> {
    const { port } = options;
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), '--require', path.join(BUILD_DIR, 'bench', 'parent-watch.js'), options.script, ...(options.args ?? [])],
      {
        cwd: options.cwd,
        // Metrics stay on, as in production, each server on a port of its own: several run at once
        // and the default 9464 would go to the first. (A peer or the floor ignores the variable.)
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', METRICS_PORT: '0', ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const server = new BenchServer(options.label, port, child, exited);
    onCleanup(`server ${options.label}`, () => server.stop());
    const deadline = Date.now() + 60_000;
    const readyPath = options.readyPath ?? '/health';
    for (;;) {
      if (!server.running) throw new Error(`${options.label} exited during start-up:\n${server.logTail()}`);
      try {
        const response = await fetch(`${server.url}${readyPath}`, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        if (response.status === 200) return server;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`${options.label} did not answer GET ${readyPath} within 60 s:\n${server.logTail()}`);
      }
      await settle(100);
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resident set size of the server process, in MiB (VmRSS of /proc/<pid>/status). */
  rssMiB(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (!kib) throw new Error(`No VmRSS in /proc/${this.pid}/status`);
    return Number(kib[1]) / 1024;
  }

  /** CPU time (user + system) the server process has used so far, in ms (clock ticks of 10 ms). */
  cpuMs(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ")"; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  }

  logTail(): string {
    return this.tail.map((line) => `  ${line}`).join('\n');
  }

  /** SIGTERM (the app closes, a --cpu-prof profile is written), SIGKILL after 15 s. Idempotent. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A redis-server of the bench's own on a spare port, to be killed: the shared one is never touched. */
export class SpareRedis {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
    private readonly dir: string,
  ) {}

  static async start(): Promise<SpareRedis> {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-redis-'));
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'],
      {
        stdio: 'ignore',
      },
    );
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const redis = new SpareRedis(port, child, exited, dir);
    onCleanup(`redis-server :${port}`, () => redis.kill());
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
      await settle(50);
    }
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** SIGKILL, and waits until it is gone. Idempotent. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
  });
}
