import { DEFAULT_LIFETIMES } from '@app/sessions';
import { type Runtime, type RuntimeSettings, startRuntime } from '@app/runtime';
import { ConsoleLogger } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase, testRedisPrefix } from '../test/support/test-database';

export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The production argon2id parameters, so login/register figures mean what they say. */
export const BENCH_HASHING = { memoryCostKiB: 19456, timeCost: 2, parallelism: 1 };

export interface BenchStack {
  readonly database: TestDatabase;
  readonly runtime: Runtime;
  readonly settings: RuntimeSettings;
  readonly cachePrefix: string;
  close(): Promise<void>;
}

export async function startBenchRuntime(label: string, overrides: Partial<RuntimeSettings> = {}): Promise<BenchStack> {
  const database = await createTestDatabase();
  const cachePrefix = testRedisPrefix(`bench-${label}`);
  const settings: RuntimeSettings = {
    database: { url: database.url, poolSize: 10, statementTimeoutMs: 600_000 },
    cache: { redisUrl: REDIS_URL, store: 'keyv-redis' },
    sessions: {
      lifetimes: DEFAULT_LIFETIMES,
      accessTokenSecret: 'bench-secret-that-is-long-enough-for-hs256',
      passwordHashing: BENCH_HASHING,
      cacheKeyPrefix: cachePrefix,
      cacheTimeoutMs: 250,
    },
    http: { host: '127.0.0.1', bodyLimit: '16kb', trustProxy: false },
    logger: new ConsoleLogger({ logLevels: ['error', 'fatal'] }),
    ...overrides,
  };
  const runtime = await startRuntime(settings);
  return {
    database,
    runtime,
    settings,
    cachePrefix,
    async close() {
      await runtime.close();
      await database.drop();
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
