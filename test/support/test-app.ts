import { SESSIONS_DEFAULTS, type SessionsModuleOptions } from '@app/sessions';
import { AuditRecorder } from '../../libs/sessions/src/application/audit/audit-recorder';
import { type AppLogger, createAppLogger, type RateLimitSettings, type Runtime, type RuntimeSettings, startRuntime } from '@app/runtime';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createAdminConsole } from '../../apps/admin-console/src/admin-console';
import { createWebApi } from '../../src/web-api';
import { createTestDatabase, deleteRedisKeys, testRedisPrefix } from './test-database';

export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** Cheap argon2id for tests: the parameters are not what is under test. */
const TEST_HASHING = { memoryCostKiB: 1024, timeCost: 1, parallelism: 1 };

/**
 * Far above anything a test does from 127.0.0.1, so rate limits and the login lockout never
 * interfere; the rate limit tests set their own (`settings: { rateLimit }`).
 */
export const GENEROUS_RATE_LIMIT: RateLimitSettings = {
  windowSeconds: 60,
  perIp: 1_000_000,
  perAccount: 1_000_000,
  lockoutThreshold: 1_000,
  lockoutSeconds: 60,
  loginMaxDelaySeconds: 60,
  perUser: 1_000_000,
  perIpAuthenticated: 1_000_000,
};

/**
 * The pino destination of a test's logger: every line the apps write, as written (JSON), so tests
 * can look for leaks and audit fallbacks and read the request lines. TEST_LOGS=1 echoes them.
 */
export class LogCapture {
  readonly lines: string[] = [];

  constructor(private readonly echo = process.env.TEST_LOGS === '1') {}

  write(chunk: string): void {
    for (const line of chunk.split('\n')) if (line !== '') this.lines.push(line);
    if (this.echo) process.stderr.write(chunk);
  }

  /** The lines parsed. */
  entries(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** The request lines (one per finished request), newest last. */
  requests(): Array<Record<string, unknown>> {
    return this.entries().filter((entry) => entry.msg === 'request_completed');
  }
}

/** A logger as the apps make it (test: JSON lines), writing to a capture. */
export function capturingLogger(level: AppLogger['pino']['level'] = 'debug'): { logger: AppLogger; capture: LogCapture } {
  const capture = new LogCapture();
  return { logger: createAppLogger({ nodeEnv: 'test', level: level as never, destination: capture }), capture };
}

export interface TestStackOptions {
  readonly label: string;
  /** Use Redis (default) or the in-process cache. */
  readonly redis?: boolean;
  readonly redisUrl?: string;
  /** A Redis Cluster of the test's own (test/support/redis-cluster.ts) instead of the shared Redis; its keys go with it. */
  readonly redisClusterNodes?: readonly string[];
  readonly sessions?: Partial<SessionsModuleOptions>;
  readonly admin?: { email: string; password: string };
  /** Any other setting to override. */
  readonly settings?: Partial<RuntimeSettings>;
  /**
   * A second instance of another stack's service: the same database and Redis key prefix
   * (so the same shared state), its own apps. Closing it leaves the database and keys to the owner.
   */
  readonly shareWith?: TestStack;
  /**
   * Connect to this URL (a database the test made, migrated and drops itself, e.g. as another role)
   * instead of a new database; closing the stack leaves the database to the test.
   */
  readonly databaseUrl?: string;
}

/** One test file's service: its own database, its own Redis key prefix, both apps in-process. */
export interface TestStack {
  readonly web: NestFastifyApplication;
  readonly admin: NestFastifyApplication;
  readonly runtime: Runtime;
  /** Every line the stack's logger wrote. */
  readonly logs: LogCapture;
  /** The stack's logger (Nest's LoggerService over its pino instance). */
  readonly logger: AppLogger;
  readonly databaseUrl: string;
  readonly cachePrefix: string;
  http(): ReturnType<typeof request>;
  adminHttp(): ReturnType<typeof request>;
  /** Waits until every audit entry emitted so far is written. */
  settleAudit(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestStack(options: TestStackOptions): Promise<TestStack> {
  const database = options.shareWith
    ? borrowedDatabase(options.shareWith.databaseUrl)
    : options.databaseUrl
      ? borrowedDatabase(options.databaseUrl)
      : await createTestDatabase();
  const borrowed = options.shareWith !== undefined || options.databaseUrl !== undefined;
  const cachePrefix = options.shareWith?.cachePrefix ?? testRedisPrefix(options.label);
  const useRedis = options.redis ?? true;
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const { logger, capture: logs } = capturingLogger();
  const settings: RuntimeSettings = {
    database: { url: database.url, poolSize: 5, statementTimeoutMs: 5_000 },
    cache: options.redisClusterNodes
      ? { redisClusterNodes: options.redisClusterNodes, store: 'keyv-redis' }
      : { redisUrl: useRedis ? redisUrl : undefined, store: 'keyv-redis' },
    sessions: {
      lifetimes: SESSIONS_DEFAULTS.lifetimes,
      accessTokenSecret: 'test-secret-that-is-long-enough-for-hs256!',
      passwordHashing: TEST_HASHING,
      cacheKeyPrefix: cachePrefix,
      cacheTimeoutMs: 250,
      ...options.sessions,
    },
    http: { host: '127.0.0.1', bodyLimit: '16kb', trustProxy: false },
    admin: options.admin,
    rateLimit: GENEROUS_RATE_LIMIT,
    logger,
    ...options.settings,
  };
  const runtime = await startRuntime(settings);
  let web: NestFastifyApplication;
  let admin: NestFastifyApplication;
  try {
    web = await createWebApi(runtime, { seedAdmin: true });
    admin = await createAdminConsole(runtime, { seedAdmin: false });
  } catch (error) {
    // A start-up that stops (a refused ADMIN_EMAIL, say) must not leave its pool open.
    await runtime.close();
    if (!borrowed) await database.drop();
    throw error;
  }
  return {
    web,
    admin,
    runtime,
    logs,
    logger,
    databaseUrl: database.url,
    cachePrefix,
    http: () => request(web.getHttpServer()),
    adminHttp: () => request(admin.getHttpServer()),
    settleAudit: async () => {
      await web.get(AuditRecorder).drain();
      await admin.get(AuditRecorder).drain();
    },
    async close() {
      await Promise.allSettled([web.close(), admin.close()]);
      await runtime.close();
      if (options.shareWith) return;
      await database.drop();
      if (useRedis && !options.redisClusterNodes) await deleteRedisKeys(redisUrl, cachePrefix);
    },
  };
}

/** Another stack's or the test's database, which its owner drops. */
function borrowedDatabase(url: string): { url: string; drop(): Promise<void> } {
  return { url, drop: async () => undefined };
}
