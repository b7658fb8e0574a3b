import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { expectEventually } from './eventually';

/**
 * The service as a real child process (`node <build>/src/launch.js` or `src/main.js`), for tests
 * that kill it, cut its dependencies or run two of it. The sources are built once per content
 * (swc CLI, into the gitignored `.test-build/<hash>/` so node_modules resolves from the repo);
 * jest workers that need the same build share it, guarded by a lock directory.
 */

const REPO_ROOT = path.resolve(__dirname, '../..');
const BUILD_ROOT = path.join(REPO_ROOT, '.test-build');
const SOURCE_DIRS = ['src', 'apps', 'libs'];
const LOCK_STALE_MS = 60_000;
const exec = promisify(execFile);

/**
 * Loaded into every child with --require: a child whose test process died without killing it
 * (jest worker crashed, SIGKILL) notices that its parent changed and ends itself.
 */
const PARENT_WATCH = `'use strict';
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL'); }, 500).unref();
`;

let buildOnce: Promise<string> | undefined;

/** Directory of a build of the current sources; builds it if no worker has yet. */
export function buildService(): Promise<string> {
  buildOnce ??= buildIfNeeded().catch((error: unknown) => {
    buildOnce = undefined;
    throw error;
  });
  return buildOnce;
}

function sourceHash(): string {
  const hash = createHash('sha256');
  const visit = (relative: string) => {
    const absolute = path.join(REPO_ROOT, relative);
    const entries = readdirSync(absolute, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const child = path.join(relative, entry.name);
      if (entry.isDirectory()) visit(child);
      else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
        hash
          .update(child)
          .update('\0')
          .update(readFileSync(path.join(REPO_ROOT, child)))
          .update('\0');
      }
    }
  };
  for (const dir of SOURCE_DIRS) visit(dir);
  hash.update(readFileSync(path.join(REPO_ROOT, '.swcrc')));
  return hash.digest('hex').slice(0, 16);
}

async function buildIfNeeded(): Promise<string> {
  mkdirSync(BUILD_ROOT, { recursive: true });
  const hash = sourceHash();
  const dir = path.join(BUILD_ROOT, hash);
  const complete = path.join(dir, '.complete');
  const lock = `${dir}.lock`;
  const state = await waitFor(`the service build lock ${lock}`, () => (existsSync(complete) ? 'built' : tryLock(lock) && 'locked'), 90_000, 100);
  if (state === 'built') return dir;
  try {
    if (existsSync(complete)) return dir;
    const staging = `${dir}.staging-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    const swc = path.join(REPO_ROOT, 'node_modules', '.bin', 'swc');
    await exec(swc, [...SOURCE_DIRS, '-d', staging, '--config-file', '.swcrc', '-q', '--ignore', '**/*.spec.ts'], {
      cwd: REPO_ROOT,
      timeout: 60_000,
    });
    writeFileSync(path.join(staging, 'parent-watch.js'), PARENT_WATCH);
    writeFileSync(path.join(staging, '.complete'), new Date().toISOString());
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    removeOldBuilds(hash);
    return dir;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function tryLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // A worker that died while building leaves its lock behind.
    try {
      if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
    } catch {
      // Removed by its owner meanwhile.
    }
    return false;
  }
}

/** Builds of older sources, unused for an hour, go; a run in progress uses its own hash. */
function removeOldBuilds(current: string): void {
  for (const name of readdirSync(BUILD_ROOT)) {
    if (name.startsWith(current)) continue;
    const entry = path.join(BUILD_ROOT, name);
    try {
      if (Date.now() - statSync(entry).mtimeMs > 3_600_000) rmSync(entry, { recursive: true, force: true });
    } catch {
      // Another worker is cleaning up too.
    }
  }
}

/** A port nothing listens on right now (the kernel picks it; free again once we close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it returns something other than undefined/false; throws after timeoutMs,
 * naming `what` (and the last error `check` threw). For a condition that is an assertion, use
 * `expectEventually` directly: its failure is the assertion's own message.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const timedOut = `Timed out after ${timeoutMs} ms waiting for ${what}`;
  return expectEventually(
    async () => {
      let result: T | undefined | false;
      try {
        result = await check();
      } catch (error) {
        throw new Error(`${timedOut} (last error: ${error instanceof Error ? error.message : String(error)})`, { cause: error });
      }
      if (result === undefined || result === false) throw new Error(timedOut);
      return result;
    },
    { timeoutMs, intervalMs },
  );
}

export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  /** Parsed when the line is a JSON object (NODE_ENV=production logs JSON lines). */
  readonly json?: Record<string, unknown>;
  /** Which start of the process wrote it: 0 for the first, 1 after the first restart, ... */
  readonly generation: number;
}

/** The `msg` of a structured log line, whether the logger put it at the top or inside `message`. */
export function logMsg(line: LogLine): string | undefined {
  const json = line.json;
  if (!json) return undefined;
  if (typeof json.msg === 'string') return json.msg;
  const message = json.message as { msg?: unknown } | undefined;
  return typeof message?.msg === 'string' ? message.msg : undefined;
}

/** The structured payload of a log line (`message` object, or the line itself). */
export function logPayload(line: LogLine): Record<string, unknown> | undefined {
  const json = line.json;
  if (!json) return undefined;
  if (typeof json.msg === 'string') return json;
  return typeof json.message === 'object' && json.message !== null ? (json.message as Record<string, unknown>) : undefined;
}

export interface ServiceProcessOptions {
  /** Shown in errors and in echoed logs. */
  readonly label: string;
  /** `both` runs src/launch.js (web API and admin console), `web` runs src/main.js. Default both. */
  readonly apps?: 'both' | 'web';
  readonly databaseUrl: string;
  /** The Redis of the cache: a URL (REDIS_URL), or the seeds of a Redis Cluster (REDIS_CLUSTER_NODES); exactly one. */
  readonly redisUrl?: string;
  /** `host:port` seeds of a cluster of the test's own (test/support/redis-cluster.ts `seeds`). */
  readonly redisClusterNodes?: readonly string[];
  readonly cachePrefix: string;
  /** Any other variable; wins over the defaults below. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long start-up may take before it counts as failed. Default 30 s. */
  readonly readyTimeoutMs?: number;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Every process started here, so an exiting jest worker can kill what a failed test left. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class ServiceProcess {
  readonly logs: LogLine[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<ExitStatus> | undefined;
  private generation = -1;
  private env: Record<string, string>;

  private constructor(
    private readonly options: ServiceProcessOptions,
    private readonly buildDir: string,
    readonly webPort: number,
    readonly adminPort: number,
  ) {
    // The service refuses both at once, and neither means its in-process cache: name the mistake here instead.
    if ((options.redisUrl === undefined) === (options.redisClusterNodes === undefined))
      throw new Error(`${options.label}: give exactly one of redisUrl and redisClusterNodes`);
    this.env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(webPort),
      ADMIN_PORT: String(adminPort),
      DATABASE_URL: options.databaseUrl,
      DATABASE_POOL_SIZE: '10',
      DATABASE_STATEMENT_TIMEOUT_MS: '2000',
      ...(options.redisClusterNodes ? { REDIS_CLUSTER_NODES: options.redisClusterNodes.join(',') } : { REDIS_URL: options.redisUrl! }),
      CACHE_KEY_PREFIX: options.cachePrefix,
      CACHE_TIMEOUT_MS: '100',
      ACCESS_TOKEN_SECRET: 'resilience-tests-secret-at-least-32-characters',
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_TIME_COST: '1',
      // Rate limits are not what these tests are about; their streams log in far more often.
      RATE_LIMIT_PER_IP: '1000000',
      RATE_LIMIT_PER_ACCOUNT: '1000000',
      RATE_LIMIT_PER_USER: '1000000',
      RATE_LIMIT_PER_IP_AUTHENTICATED: '1000000',
      // No load balancer waits for the readiness probe here: stop() closes at once (production drains 5 s).
      SHUTDOWN_DRAIN_SECONDS: '0',
      // Several instances (and test files) run at once: the default 9464 would be taken by the first.
      METRICS_PORT: '0',
      ...options.env,
    };
  }

  /** Builds (once) and starts the service; resolves when GET /health answers on every app it runs. */
  static async start(options: ServiceProcessOptions): Promise<ServiceProcess> {
    const buildDir = await buildService();
    const service = new ServiceProcess(options, buildDir, await freePort(), await freePort());
    try {
      await service.launch();
    } catch (error) {
      await service.stop();
      throw error;
    }
    return service;
  }

  get webUrl(): string {
    return `http://127.0.0.1:${this.webPort}`;
  }

  get adminUrl(): string {
    if (this.options.apps === 'web') throw new Error(`${this.options.label} runs the web API only`);
    return `http://127.0.0.1:${this.adminPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Parsed JSON log lines, optionally only those with this `msg`. */
  structuredLogs(msg?: string): Array<{ line: LogLine; payload: Record<string, unknown> }> {
    return this.logs
      .filter((line) => line.json !== undefined && (msg === undefined || logMsg(line) === msg))
      .map((line) => ({ line, payload: logPayload(line) ?? line.json! }));
  }

  /** Sends `signal` and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 10_000): Promise<ExitStatus> {
    if (!this.running) return this.exitStatus(timeoutMs);
    this.signal(signal);
    return this.exitStatus(timeoutMs, `of ${signal}`);
  }

  /** Sends `signal` without waiting (a shutdown test watches the process meanwhile). */
  signal(signal: NodeJS.Signals): void {
    if (!this.child || !this.exited) throw new Error(`${this.options.label} was never started`);
    this.child.kill(signal);
  }

  /** Waits for the process to exit; rejects after timeoutMs. */
  async exitStatus(timeoutMs = 10_000, after = 'of waiting'): Promise<ExitStatus> {
    if (!this.child || !this.exited) throw new Error(`${this.options.label} was never started`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.options.label} did not exit within ${timeoutMs} ms ${after}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts the process again on the same ports (after kill), with extra or changed variables. */
  async restart(env: Readonly<Record<string, string>> = {}): Promise<void> {
    if (this.running) await this.kill('SIGKILL');
    this.env = { ...this.env, ...env };
    await this.launch();
  }

  /** SIGTERM (graceful), SIGKILL if it lingers. Idempotent; for afterAll. */
  async stop(): Promise<void> {
    if (!this.running) return;
    try {
      await this.kill('SIGTERM', 5_000);
    } catch {
      await this.kill('SIGKILL');
    }
  }

  private async launch(): Promise<void> {
    this.generation += 1;
    const generation = this.generation;
    const entry = this.options.apps === 'web' ? 'src/main.js' : 'src/launch.js';
    // cwd is the build: a developer's .env in the repo must not leak into the test.
    const child = spawn(process.execPath, ['--enable-source-maps', '--require', './parent-watch.js', entry], {
      cwd: this.buildDir,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    this.exited = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        resolve({ code, signal });
      });
    });
    const echo = process.env.TEST_LOGS === '1';
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream] }).on('line', (text) => {
        this.logs.push({ stream, text, json: parseJson(text), generation });
        if (echo) process.stderr.write(`[${this.options.label}#${generation}] ${text}\n`);
      });
    }
    const urls = [this.webUrl, ...(this.options.apps === 'web' ? [] : [this.adminUrl])];
    const exitedEarly = this.exited.then((status) => {
      throw new Error(`${this.options.label} exited during start-up (${status.signal ?? status.code}):\n${this.tail(generation)}`);
    });
    const ready = waitFor(
      `${this.options.label} to answer GET /health`,
      async () => {
        for (const url of urls) {
          const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
          await response.arrayBuffer();
        }
        return true;
      },
      this.options.readyTimeoutMs ?? 30_000,
      100,
    );
    try {
      await Promise.race([ready, exitedEarly]);
    } catch (error) {
      if (this.running) await this.kill('SIGKILL');
      throw error instanceof Error && !error.message.includes('exited during') ? new Error(`${error.message}\n${this.tail(generation)}`) : error;
    } finally {
      exitedEarly.catch(() => undefined);
    }
  }

  private tail(generation: number): string {
    return this.logs
      .filter((line) => line.generation === generation)
      .slice(-30)
      .map((line) => `  ${line.stream}: ${line.text}`)
      .join('\n');
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
