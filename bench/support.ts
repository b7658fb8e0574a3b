import { DEFAULT_SESSIONS_SCHEMA, SESSIONS_DEFAULTS, type SessionsModuleOptions } from '@app/sessions';
import { type Runtime, type RuntimeSettings, startRuntime, createAppLogger } from '@app/runtime';
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { createTestDatabase, deleteRedisKeys, type TestDatabase, testRedisPrefix } from '../test/support/test-database';

export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The production argon2id parameters (the library's defaults), so login/register figures mean what they say. */
export const BENCH_HASHING = SESSIONS_DEFAULTS.passwordHashing;
export const BENCH_SECRET = 'bench-secret-that-is-long-enough-for-hs256';

/**
 * Everything the run creates outside its own memory (databases, Redis keys, child processes)
 * registers its clean-up here; run.ts calls them in reverse order on the way out, whatever
 * happened, and on SIGINT/SIGTERM.
 */
const cleanups: Array<{ what: string; run: () => Promise<unknown> }> = [];

export function onCleanup(what: string, run: () => Promise<unknown>): () => Promise<void> {
  const entry = { what, run };
  cleanups.push(entry);
  // Returns an "early clean-up" that also unregisters, so nothing runs twice.
  return async () => {
    const index = cleanups.indexOf(entry);
    if (index < 0) return;
    cleanups.splice(index, 1);
    await run();
  };
}

/**
 * Runs a bench's main to its end and exits with its code, cleaning up on the way out, on an
 * error, and on SIGINT/SIGTERM (130). If some library still holds a handle after the clean-up,
 * the process exits all the same after 5 s.
 */
export function runBench(main: () => Promise<number>): void {
  let exiting = false;
  const finish = async (code: number): Promise<void> => {
    if (exiting) return;
    exiting = true;
    await runCleanups();
    process.exitCode = code;
    setTimeout(() => {
      progress('a handle was still open after the clean-up; exiting anyway');
      process.exit(code);
    }, 5_000).unref();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      progress(`${signal}: cleaning up`);
      void finish(130).then(() => process.exit(130));
    });
  }
  main().then(
    (code) => finish(code),
    async (error: unknown) => {
      console.error(error);
      await finish(1);
    },
  );
}

export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const { what, run } = cleanups.pop()!;
    try {
      await run();
    } catch (error) {
      console.error(`clean-up of ${what} failed: ${(error as Error).message}`);
    }
  }
}

/** A fresh database (migrated by whoever starts first on it) that is dropped at the end of the run. */
export async function benchDatabase(): Promise<TestDatabase & { release(): Promise<void> }> {
  const database = await createTestDatabase();
  const release = onCleanup(`database ${database.name}`, () => database.drop());
  return { ...database, drop: () => database.drop(), release };
}

/** A Redis key prefix whose keys (on the shared Redis) are deleted at the end of the run. */
export function benchRedisPrefix(label: string): { prefix: string; release(): Promise<void> } {
  const prefix = testRedisPrefix(`bench-${label}`);
  const release = onCleanup(`Redis keys ${prefix}*`, () => deleteRedisKeys(REDIS_URL, prefix));
  return { prefix, release };
}

export interface BenchStack {
  readonly database: TestDatabase;
  readonly runtime: Runtime;
  readonly settings: RuntimeSettings;
  readonly cachePrefix: string;
  close(): Promise<void>;
}

/** The runtime in this process (for CommandBus measurements), on a fresh database and key prefix. */
export async function startBenchRuntime(label: string, sessionOverrides: Partial<SessionsModuleOptions> = {}): Promise<BenchStack> {
  const database = await benchDatabase();
  const redis = benchRedisPrefix(label);
  const settings: RuntimeSettings = {
    database: { url: database.url, poolSize: 10, statementTimeoutMs: 600_000 },
    cache: { redisUrl: REDIS_URL, store: 'keyv-redis' },
    sessions: {
      lifetimes: SESSIONS_DEFAULTS.lifetimes,
      accessTokenSecret: BENCH_SECRET,
      passwordHashing: BENCH_HASHING,
      cacheKeyPrefix: redis.prefix,
      cacheTimeoutMs: 250,
      ...sessionOverrides,
    },
    http: { host: '127.0.0.1', bodyLimit: '16kb', trustProxy: false },
    logger: createAppLogger({ nodeEnv: 'test', level: 'error' }),
  };
  const runtime = await startRuntime(settings);
  const closeRuntime = onCleanup(`runtime ${label}`, () => runtime.close());
  return {
    database,
    runtime,
    settings,
    cachePrefix: redis.prefix,
    async close() {
      await closeRuntime();
      await redis.release();
      await database.release();
    },
  };
}

export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export async function timeMs(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

export function newToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: createHash('sha256').update(token).digest() };
}

export function settle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Lets the previous phase's garbage go before timing the next (the bench runs with --expose-gc). */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Writes one progress line to stderr, so stdout holds only the table. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** The library's schema in the bench databases: the runtime uses the default. */
export const BENCH_SCHEMA = DEFAULT_SESSIONS_SCHEMA;
