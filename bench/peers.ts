import { createClient } from '@keyv/redis';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { call, load, type LoadResult, pool } from './http-load';
import { type HttpFigures, rotate, summarize, waitForDegradedCache } from './http-routes';
import { BenchServer, BUILD_DIR, freePort, REPO_ROOT, SpareRedis } from './server';
import { benchDatabase, benchRedisPrefix, median, progress, REDIS_URL, settle, withClient } from './support';

const run = promisify(execFile);

/** bench/peers/: its own package.json and package-lock.json, installed by the bench (not by `npm install` of the service). */
export const PEERS_DIR = path.join(REPO_ROOT, 'bench', 'peers');

/** The servers of the comparison, in the order of the table. */
export const PEER_SERVERS = ['floor', 'better-auth', 'ours', 'ours-redis-down'] as const;
export type PeerServer = (typeof PEER_SERVERS)[number];

export interface PeerRow extends HttpFigures {
  readonly server: PeerServer;
  /** Median CPU time of the bench process (autocannon) per request: the load generator's share of the two cores. */
  readonly clientCpuUsPerRequest: number;
  /** PostgreSQL transactions (each query outside a transaction is one) per request, from pg_stat_database over a separate run; none for the floor. */
  readonly postgresTransactionsPerRequest?: number;
  /** What was requested of it. */
  readonly request: string;
}

/** Each a median over the rounds of the ratio within the round (the servers of one round ran seconds apart). */
export interface PeerRatios {
  /** GET /auth/me (cache warm) req/s over the floor's. */
  readonly meOverFloor: number;
  /** GET /auth/me (cache warm) req/s over Better Auth's get-session. */
  readonly meOverBetterAuth: number;
  /** GET /auth/me (cache warm) p99 over the floor's p99. */
  readonly meP99OverFloor: number;
  /** GET /auth/me with Redis down req/s over Better Auth's get-session. */
  readonly redisDownOverBetterAuth: number;
  /**
   * The same comparisons by server CPU time per request (the other's over ours, so above 1 means
   * ours costs less): it barely moves when other work shares the cores, and it is not capped by
   * the load generator, as the floor's throughput is.
   */
  readonly cpu: { readonly meOverFloor: number; readonly meOverBetterAuth: number; readonly redisDownOverBetterAuth: number };
}

export interface PeersResult {
  readonly rows: PeerRow[];
  readonly ratios: PeerRatios;
  readonly rounds: number;
  readonly versions: { readonly betterAuth: string; readonly pg: string; readonly redisClient: string };
}

export interface PeersOptions {
  readonly rounds: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
}

export const DEFAULT_PEERS: PeersOptions = { rounds: 6, seconds: 4, warmupSeconds: 3 };

const USERS = 10;
const PASSWORD = 'correct horse battery staple';
const BETTER_AUTH_SECRET = 'bench-secret-that-is-long-enough-for-better-auth';

const serverCpu = (run: LoadResult) => run.serverCpuUsPerRequest ?? Number.NaN;

/** Committed and rolled-back transactions of one database so far (the query's own included). */
async function transactionsOf(url: string): Promise<number> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()');
    return Number(rows[0].n);
  });
}

const versionOf = (packageJson: string) => (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;

/** `npm ci --prefix bench/peers` when bench/peers/node_modules is absent (its lockfile pins every version). */
export async function ensurePeersInstalled(): Promise<void> {
  if (existsSync(path.join(PEERS_DIR, 'node_modules'))) return;
  progress('peers: bench/peers/node_modules is absent: npm ci --prefix bench/peers');
  await run('npm', ['ci', '--prefix', PEERS_DIR, '--no-audit', '--no-fund'], { cwd: PEERS_DIR, maxBuffer: 16 * 1024 * 1024 });
}

/**
 * Better Auth (bench/peers/better-auth-server.mjs) on a database of its own, its schema made by
 * its own migrations, one user signed up and signed in: returns the server and the session cookie.
 */
async function startBetterAuth(): Promise<{ server: BenchServer; cookie: string; databaseUrl: string; release(): Promise<void> }> {
  const database = await benchDatabase();
  const port = await freePort();
  const script = path.join(PEERS_DIR, 'better-auth-server.mjs');
  const env = { NODE_ENV: 'production', DATABASE_URL: database.url, PORT: String(port), BETTER_AUTH_SECRET };
  const migrated = await run(process.execPath, [script, 'migrate'], { cwd: PEERS_DIR, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
  progress(`peers: Better Auth ${migrated.stdout.trim()}`);
  const server = await BenchServer.spawn({ label: 'better-auth', port, script, cwd: PEERS_DIR, env, readyPath: '/api/auth/ok' });

  const post = async (route: string, body: unknown) => {
    const response = await fetch(`${server.url}/api/auth/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`Better Auth ${route} answered ${response.status}: ${text.slice(0, 200)}`);
    return response;
  };
  const email = 'bench-better-auth@example.com';
  await post('sign-up/email', { email, password: PASSWORD, name: 'Bench' });
  const signedIn = await post('sign-in/email', { email, password: PASSWORD });
  const cookie = signedIn.headers
    .getSetCookie()
    .map((header) => header.split(';')[0])
    .find((pair) => pair.startsWith('better-auth.session_token='));
  if (!cookie) throw new Error(`Better Auth sign-in set no session cookie: ${JSON.stringify(signedIn.headers.getSetCookie())}`);
  const session = await fetch(`${server.url}/api/auth/get-session`, { headers: { cookie } }).then((response) => response.text());
  if (!session.startsWith('{"session":{')) throw new Error(`Better Auth get-session does not find the signed-in session: ${session.slice(0, 200)}`);
  return { server, cookie, databaseUrl: database.url, release: () => database.release() };
}

/** The floor (bench/floor-server.ts): one Redis GET of a key written here, per request. */
async function startFloor(): Promise<BenchServer> {
  const key = `${benchRedisPrefix('floor').prefix}user`;
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  try {
    await redis.set(key, JSON.stringify({ id: '00000000-0000-7000-8000-000000000001', email: 'bench-floor@example.com', role: 'user' }));
  } finally {
    redis.destroy();
  }
  const port = await freePort();
  return BenchServer.spawn({
    label: 'floor',
    port,
    script: path.join(BUILD_DIR, 'bench', 'floor-server.js'),
    cwd: BUILD_DIR,
    env: { NODE_ENV: 'production', PORT: String(port), REDIS_URL, FLOOR_KEY: key },
  });
}

/**
 * GET /auth/me beside its peers, under the same load (autocannon, 10 connections), in rounds:
 * each round runs the bare floor, Better Auth's get-session, ours with the cache warm and ours
 * with Redis down, one after another, the order rotated from round to round. Only one server is
 * under load at a time; all four are started before the first round and stay up until the last.
 */
export async function measurePeers(options: PeersOptions = DEFAULT_PEERS): Promise<PeersResult> {
  await ensurePeersInstalled();
  const database = await benchDatabase();
  const start = (label: string, redisUrl: string) =>
    BenchServer.start({
      label,
      databaseUrl: database.url,
      redisUrl,
      cachePrefix: benchRedisPrefix(`peers-${label}`).prefix,
      env: { NODE_ENV: 'production', BENCHMARK_AUTH_CHECK: 'session' },
    });
  const ours = await start('ours', REDIS_URL);
  const spareRedis = await SpareRedis.start();
  const oursRedisDown = await start('ours-redis-down', spareRedis.url);
  await spareRedis.kill();
  await waitForDegradedCache(oursRedisDown);
  const floor = await startFloor();
  const betterAuth = await startBetterAuth();
  const servers: Record<PeerServer, BenchServer> = { floor, 'better-auth': betterAuth.server, ours, 'ours-redis-down': oursRedisDown };

  try {
    const tokens = await pool(
      Array.from({ length: USERS }, (_, i) => `bench-peers-${i}@example.com`),
      2,
      async (email): Promise<string> => {
        const registered = await call<{ userId: string }>(ours.url, 'POST', '/auth/register', { email, password: PASSWORD });
        if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);
        const login = await call<{ accessToken: string }>(ours.url, 'POST', '/auth/login', { email, password: PASSWORD });
        if (login.status !== 200) throw new Error(`login answered ${login.status}`);
        return `Bearer ${login.body.accessToken}`;
      },
    );
    const me = (server: BenchServer) => {
      const token = rotate(tokens);
      return (duration: number) =>
        load({
          url: server.url,
          method: 'GET',
          path: '/auth/me',
          next: () => ({ headers: { authorization: token() } }),
          duration,
          expectStatus: 200,
          serverCpuMs: () => server.cpuMs(),
        });
    };
    const loads: Record<PeerServer, (duration: number) => Promise<LoadResult>> = {
      floor: (duration) =>
        load({
          url: floor.url,
          method: 'GET',
          path: '/me',
          next: () => ({}),
          duration,
          expectStatus: 200,
          expectBody: (body) => body.startsWith('{"session":"active"'),
          serverCpuMs: () => floor.cpuMs(),
        }),
      'better-auth': (duration) =>
        load({
          url: betterAuth.server.url,
          method: 'GET',
          path: '/api/auth/get-session',
          next: () => ({ headers: { cookie: betterAuth.cookie } }),
          duration,
          expectStatus: 200,
          // get-session answers 200 with `null` when it finds no session: only a session counts.
          expectBody: (body) => body.startsWith('{"session":{'),
          serverCpuMs: () => betterAuth.server.cpuMs(),
        }),
      ours: me(ours),
      'ours-redis-down': me(oursRedisDown),
    };

    progress('peers: warming up the four servers');
    for (const server of PEER_SERVERS) await loads[server](options.warmupSeconds);
    const runs = new Map<PeerServer, LoadResult[]>(PEER_SERVERS.map((server) => [server, []]));
    for (let r = 0; r < options.rounds; r += 1) {
      const order = [...PEER_SERVERS.slice(r % PEER_SERVERS.length), ...PEER_SERVERS.slice(0, r % PEER_SERVERS.length)];
      for (const server of order) runs.get(server)!.push(await loads[server](options.seconds));
      progress(
        `peers: round ${r + 1}/${options.rounds}: ${PEER_SERVERS.map((server) => `${server} ${runs.get(server)!.at(-1)!.requestsPerSecond.toFixed(0)}`).join(', ')} req/s`,
      );
    }

    // What each server asks of PostgreSQL per request: a separate, counted run after the rounds.
    const databases: Partial<Record<PeerServer, string>> = { 'better-auth': betterAuth.databaseUrl, ours: database.url, 'ours-redis-down': database.url };
    // A backend reports its counts to pg_stat_database at most once a second, and one that goes
    // idle with counts unreported does so within PGSTAT_IDLE_INTERVAL (10 s): each count waits that out.
    const statsFlushMs = 11_000;
    const postgresPerRequest = new Map<PeerServer, number>();
    await settle(statsFlushMs);
    for (const server of PEER_SERVERS) {
      const url = databases[server];
      if (!url) continue;
      const before = await transactionsOf(url);
      const counted = await loads[server](1);
      await settle(statsFlushMs);
      // The first count's own transaction is in the second.
      postgresPerRequest.set(server, ((await transactionsOf(url)) - before - 1) / counted.requests);
    }
    progress(`peers: PostgreSQL transactions per request: ${[...postgresPerRequest].map(([server, count]) => `${server} ${count.toFixed(2)}`).join(', ')}`);

    const perRound = (value: (round: Record<PeerServer, LoadResult>) => number) =>
      median(
        Array.from({ length: options.rounds }, (_, r) =>
          value(Object.fromEntries(PEER_SERVERS.map((server) => [server, runs.get(server)![r]])) as Record<PeerServer, LoadResult>),
        ),
      );
    const ratios: PeerRatios = {
      meOverFloor: perRound((round) => round.ours.requestsPerSecond / round.floor.requestsPerSecond),
      meOverBetterAuth: perRound((round) => round.ours.requestsPerSecond / round['better-auth'].requestsPerSecond),
      // autocannon's latencies are whole milliseconds: a floor p99 of 0 ms counts as 1 ms, its resolution.
      meP99OverFloor: perRound((round) => round.ours.p99Ms / Math.max(round.floor.p99Ms, 1)),
      redisDownOverBetterAuth: perRound((round) => round['ours-redis-down'].requestsPerSecond / round['better-auth'].requestsPerSecond),
      cpu: {
        meOverFloor: perRound((round) => serverCpu(round.floor) / serverCpu(round.ours)),
        meOverBetterAuth: perRound((round) => serverCpu(round['better-auth']) / serverCpu(round.ours)),
        redisDownOverBetterAuth: perRound((round) => serverCpu(round['better-auth']) / serverCpu(round['ours-redis-down'])),
      },
    };
    const request: Record<PeerServer, string> = {
      floor: 'GET /me',
      'better-auth': 'GET /api/auth/get-session (session cookie)',
      ours: 'GET /auth/me (bearer token)',
      'ours-redis-down': 'GET /auth/me (bearer token)',
    };
    return {
      rows: PEER_SERVERS.map((server) => ({
        server,
        request: request[server],
        ...summarize(runs.get(server)!),
        clientCpuUsPerRequest: median(runs.get(server)!.map((run) => run.clientCpuUsPerRequest)),
        ...(postgresPerRequest.has(server) ? { postgresTransactionsPerRequest: postgresPerRequest.get(server)! } : {}),
      })),
      ratios,
      rounds: options.rounds,
      versions: {
        betterAuth: versionOf(path.join(PEERS_DIR, 'node_modules', 'better-auth', 'package.json')),
        pg: versionOf(path.join(PEERS_DIR, 'node_modules', 'pg', 'package.json')),
        redisClient: versionOf(require.resolve('@redis/client/package.json', { paths: [require.resolve('@keyv/redis')] })),
      },
    };
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
    await Promise.all([database.release(), betterAuth.release()]);
  }
}
