import type { AuthCheckMode as RuntimeAuthCheckMode } from '@app/runtime';
import * as argon2 from 'argon2';
import { Client } from 'pg';
import { call, load, type LoadResult, pool } from './http-load';
import { Seeder } from './seed';
import { BenchServer, SpareRedis } from './server';
import { BENCH_HASHING, BENCH_SCHEMA, benchDatabase, benchRedisPrefix, median, progress, REDIS_URL, settle, timeMs } from './support';

/** The runtime's auth-check modes (BENCHMARK_AUTH_CHECK), and the production check with Redis killed. */
export type AuthCheckMode = RuntimeAuthCheckMode | 'redis-down';

export interface HttpFigures {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Requests measured, over all repetitions. */
  readonly requests: number;
  readonly repetitions: number;
  /** Median CPU time of the server process per request. */
  readonly serverCpuUsPerRequest: number;
}

export interface AuthCheckRow extends HttpFigures {
  readonly mode: AuthCheckMode;
  /**
   * Throughput over that of signature-only verification: the median of the repetitions' own
   * ratios, each between runs a few seconds apart (other work on the machine comes and goes).
   */
  readonly ratio: number;
  /** The same for the server's CPU time per request (signature-only's over this mode's). */
  readonly cpuRatio: number;
}

export interface RouteRow extends HttpFigures {
  readonly route: string;
  /** Login only: one argon2id verification with the production parameters, timed alone in the bench process. */
  readonly argon2VerifyMs?: number;
}

export interface HttpOptions {
  readonly repetitions: number;
  /** Seconds per timed run of a duration-bound load. */
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Requests per timed run of refresh and logout (each consumes one seeded refresh token). */
  readonly tokenRequests: number;
}

export const DEFAULT_HTTP: HttpOptions = { repetitions: 6, seconds: 3, warmupSeconds: 3, tokenRequests: 1_000 };

const USERS = 10;
const PASSWORD = 'correct horse battery staple';

interface Account {
  readonly userId: string;
  readonly email: string;
  readonly accessToken: string;
}

/** Medians over the repetitions: throughput, p50 and p99 (each a median of the runs' own). */
export function summarize(runs: readonly LoadResult[]): HttpFigures {
  return {
    requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    requests: runs.reduce((sum, run) => sum + run.requests, 0),
    repetitions: runs.length,
    serverCpuUsPerRequest: median(runs.map((run) => run.serverCpuUsPerRequest ?? Number.NaN)),
  };
}

export function rotate<T>(items: readonly T[]): () => T {
  let next = 0;
  return () => items[next++ % items.length];
}

/**
 * Rows 3 and 4. Four servers on one database, identical but for the auth check:
 * - session: the production check (signature, then the cache, PostgreSQL on a miss);
 * - signature-only and no-cache: the benchmark-only BENCHMARK_AUTH_CHECK switch;
 * - redis-down: started against a redis-server of the bench's own, which is then killed, so
 *   every check falls back to PostgreSQL.
 * Only one server is under load at a time; the /auth/me repetitions rotate through them.
 */
export async function measureHttp(options: HttpOptions = DEFAULT_HTTP): Promise<{ authCheck: AuthCheckRow[]; routes: RouteRow[] }> {
  const database = await benchDatabase();
  const start = (mode: AuthCheckMode, redisUrl = REDIS_URL) =>
    BenchServer.start({
      label: `server-${mode}`,
      databaseUrl: database.url,
      redisUrl,
      cachePrefix: benchRedisPrefix(`http-${mode}`).prefix,
      env: { BENCHMARK_AUTH_CHECK: mode === 'redis-down' ? 'session' : mode },
    });
  // The first one runs the migrations; the others find them done.
  const sessionServer = await start('session');
  const spareRedis = await SpareRedis.start();
  const [signatureServer, noCacheServer, redisDownServer] = await Promise.all([
    start('signature-only'),
    start('no-cache'),
    start('redis-down', spareRedis.url),
  ]);
  await spareRedis.kill();
  await waitForDegradedCache(redisDownServer);
  const servers: Record<AuthCheckMode, BenchServer> = {
    session: sessionServer,
    'signature-only': signatureServer,
    'no-cache': noCacheServer,
    'redis-down': redisDownServer,
  };

  try {
    const accounts = await pool(
      Array.from({ length: USERS }, (_, i) => `bench-http-${i}@example.com`),
      2,
      async (email): Promise<Account> => {
        const registered = await call<{ userId: string }>(sessionServer.url, 'POST', '/auth/register', { email, password: PASSWORD });
        if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);
        const login = await call<{ accessToken: string }>(sessionServer.url, 'POST', '/auth/login', { email, password: PASSWORD });
        if (login.status !== 200) throw new Error(`login answered ${login.status}`);
        return { userId: registered.body.userId, email, accessToken: login.body.accessToken };
      },
    );

    // Row 3: GET /auth/me under each auth check.
    const meLoad = (server: BenchServer, duration: number) => {
      const token = rotate(accounts.map((account) => `Bearer ${account.accessToken}`));
      return load({
        url: server.url,
        method: 'GET',
        path: '/auth/me',
        next: () => ({ headers: { authorization: token() } }),
        duration,
        expectStatus: 200,
        serverCpuMs: () => server.cpuMs(),
      });
    };
    const modes = Object.keys(servers) as AuthCheckMode[];
    progress('http: warming up GET /auth/me on the four servers');
    for (const mode of modes) await meLoad(servers[mode], options.warmupSeconds);
    const meRuns = new Map<AuthCheckMode, LoadResult[]>(modes.map((mode) => [mode, []]));
    for (let r = 0; r < options.repetitions; r += 1) {
      // Rotate the order, so no mode always runs first.
      for (const mode of [...modes.slice(r % modes.length), ...modes.slice(0, r % modes.length)]) {
        meRuns.get(mode)!.push(await meLoad(servers[mode], options.seconds));
      }
    }
    const reference = meRuns.get('signature-only')!;
    const authCheck = modes.map((mode): AuthCheckRow => {
      const runs = meRuns.get(mode)!;
      const figures = summarize(runs);
      const ratio = median(runs.map((run, r) => run.requestsPerSecond / reference[r].requestsPerSecond));
      const cpuRatio = median(runs.map((run, r) => (reference[r].serverCpuUsPerRequest ?? Number.NaN) / (run.serverCpuUsPerRequest ?? Number.NaN)));
      progress(
        `http: GET /auth/me ${mode}: ${runs.map((run) => run.requestsPerSecond.toFixed(0)).join('/')} req/s, ` +
          `${runs.map((run) => run.serverCpuUsPerRequest?.toFixed(0)).join('/')} µs CPU/request; ratio ${ratio.toFixed(2)}, CPU ratio ${cpuRatio.toFixed(2)}`,
      );
      return { mode, ...figures, ratio, cpuRatio };
    });

    // Row 4: the other routes, on the production server.
    const login = rotate(accounts.map((account) => ({ email: account.email, password: PASSWORD })));
    const serverCpuMs = () => sessionServer.cpuMs();
    const loginLoad = (duration: number) =>
      load({ url: sessionServer.url, method: 'POST', path: '/auth/login', next: () => ({ body: login() }), duration, expectStatus: 200, serverCpuMs });
    progress('http: POST /auth/login');
    await loginLoad(options.warmupSeconds);
    const loginRuns: LoadResult[] = [];
    for (let r = 0; r < options.repetitions; r += 1) loginRuns.push(await loginLoad(options.seconds));

    const warmupTokens = Math.ceil(options.tokenRequests / 4);
    // A margin, in case the load generator sends a few more than asked.
    const perRoute = warmupTokens + options.repetitions * options.tokenRequests + 200;
    const tokens = await seedRefreshTokens(database.url, accounts, 2 * perRoute);
    const tokenLoad = (path: '/auth/refresh' | '/auth/logout', next: () => string, amount: number) =>
      load({
        url: sessionServer.url,
        method: 'POST',
        path,
        next: () => ({ body: { refreshToken: next() } }),
        amount,
        expectStatus: path === '/auth/refresh' ? 200 : 204,
        serverCpuMs,
      });
    const tokenRuns = async (path: '/auth/refresh' | '/auth/logout', pool: readonly string[]) => {
      progress(`http: POST ${path}`);
      const next = rotate(pool);
      await tokenLoad(path, next, warmupTokens);
      const runs: LoadResult[] = [];
      for (let r = 0; r < options.repetitions; r += 1) runs.push(await tokenLoad(path, next, options.tokenRequests));
      return runs;
    };
    const refreshRuns = await tokenRuns('/auth/refresh', tokens.slice(0, perRoute));
    const logoutRuns = await tokenRuns('/auth/logout', tokens.slice(perRoute));

    const routes: RouteRow[] = [
      { route: 'POST /auth/login', ...summarize(loginRuns), argon2VerifyMs: await timeArgon2() },
      { route: 'POST /auth/refresh', ...summarize(refreshRuns) },
      { route: 'POST /auth/logout', ...summarize(logoutRuns) },
      { route: 'GET /auth/me', ...summarize(meRuns.get('session')!) },
    ];
    return { authCheck, routes };
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
    await database.release();
  }
}

/** What one login's password check costs by itself: the median of a few argon2id verifications. */
async function timeArgon2(): Promise<number> {
  const hash = await argon2.hash(PASSWORD, {
    type: argon2.argon2id,
    memoryCost: BENCH_HASHING.memoryCostKiB,
    timeCost: BENCH_HASHING.timeCost,
    parallelism: BENCH_HASHING.parallelism,
  });
  const times: number[] = [];
  for (let i = 0; i < 9; i += 1) {
    times.push(
      await timeMs(async () => {
        if (!(await argon2.verify(hash, PASSWORD))) throw new Error('argon2 verification failed');
      }),
    );
  }
  return median(times);
}

/** Sessions with known refresh tokens, spread over the accounts; a different one for every request. */
async function seedRefreshTokens(url: string, accounts: readonly Account[], count: number): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const seeder = new Seeder(client, BENCH_SCHEMA);
    const sessions = await seeder.spread(
      accounts.map((account) => account.userId),
      count,
    );
    await seeder.settle();
    return sessions.map((id) => seeder.tokenOf(id));
  } finally {
    await client.end();
  }
}

/** The redis-down server reports its cache degraded once its heartbeat noticed Redis is gone. */
export async function waitForDegradedCache(server: BenchServer): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const health = await call<unknown>(server.url, 'GET', '/health');
    if (health.status === 200 && JSON.stringify(health.body).includes('"reachable":false')) return;
    if (Date.now() > deadline) throw new Error(`the redis-down server never reported its cache degraded: ${JSON.stringify(health.body)}`);
    await settle(200);
  }
}
