import { call, load, pool } from './http-load';
import { seedSignedInUsers } from './seed';
import path from 'node:path';
import { BenchServer, BUILD_DIR, freePort } from './server';
import { benchDatabase, benchRedisPrefix, median, progress, REDIS_URL, settle } from './support';

export interface MemoryPoint {
  /** What the server had done when its RSS was read. */
  readonly after: string;
  readonly rssMiB: number;
  readonly ratioToStart: number;
  /**
   * For a step of requests: the median of RSS readings taken every 250 ms during it. A single
   * reading lands anywhere in V8's heap growing and shrinking; the median of a step does not.
   */
  readonly stepMedianMiB?: number;
}

export interface MemoryOptions {
  readonly users: number;
  /** Sessions per user before its login; the login adds one, and revoke-all ends them all. */
  readonly sessionsPerUser: number;
  readonly requests: number;
  readonly steps: number;
}

export const DEFAULT_MEMORY: MemoryOptions = { users: 100, sessionsPerUser: 999, requests: 100_000, steps: 4 };

export interface EmbeddedIdle {
  /** VmRSS of `launch.js` (both apps, embedded PostgreSQL, cache in memory) once idle. */
  readonly rssMiB: number;
  /** Seconds from spawning to both apps answering GET /health. */
  readonly startSeconds: number;
  /** Seconds it was left idle after that before the reading. */
  readonly idleSeconds: number;
}

/**
 * `npm start` on a fresh checkout: `launch.js` (as built for the bench) without DATABASE_URL
 * and REDIS_URL, NODE_ENV=development, so it runs the embedded PostgreSQL (PGlite, in memory)
 * and keeps the cache in process memory. RSS read once both apps answer and it has idled.
 */
export async function measureEmbeddedIdle(idleSeconds = 5): Promise<EmbeddedIdle> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const spawned = Date.now();
  const server = await BenchServer.spawn({
    label: 'embedded',
    port,
    script: path.join(BUILD_DIR, 'src', 'launch.js'),
    cwd: BUILD_DIR,
    env: { NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(port), ADMIN_PORT: String(adminPort) },
  });
  try {
    const admin = await fetch(`http://127.0.0.1:${adminPort}/health`, { signal: AbortSignal.timeout(10_000) });
    await admin.arrayBuffer();
    if (admin.status !== 200) throw new Error(`the embedded admin console answered GET /health with ${admin.status}`);
    const startSeconds = (Date.now() - spawned) / 1000;
    await settle(idleSeconds * 1000);
    const rssMiB = server.rssMiB();
    progress(`memory: embedded mode, idle ${idleSeconds} s after start-up (${startSeconds.toFixed(1)} s): ${rssMiB.toFixed(1)} MiB`);
    return { rssMiB, startSeconds, idleSeconds };
  } finally {
    await server.stop();
  }
}

/**
 * Row 5: resident set size of a fresh server (VmRSS) at start, after each quarter of 100,000
 * GET /auth/me, and after revoking 100,000 sessions (100 users x 1,000, one revoke-all over
 * HTTP per user).
 */
export async function measureMemory(options: MemoryOptions = DEFAULT_MEMORY): Promise<MemoryPoint[]> {
  const database = await benchDatabase();
  const server = await BenchServer.start({
    label: 'server-memory',
    databaseUrl: database.url,
    redisUrl: REDIS_URL,
    cachePrefix: benchRedisPrefix('memory').prefix,
  });
  try {
    const points: Array<{ after: string; rssMiB: number; stepMedianMiB?: number }> = [];
    const read = (after: string) => {
      points.push({ after, rssMiB: server.rssMiB() });
      progress(`memory: ${after}: ${points.at(-1)!.rssMiB.toFixed(1)} MiB`);
      return points.at(-1)!;
    };
    await settle(1_000);
    read('start (GET /health answered)');

    // One registration over HTTP gives a real argon2id hash for the seeded users.
    const tokens = await seedSignedInUsers(server.url, database.url, {
      firstEmail: 'bench-memory@example.com',
      users: options.users,
      sessionsPerUser: options.sessionsPerUser,
    });

    let next = 0;
    const perStep = options.requests / options.steps;
    for (let step = 1; step <= options.steps; step += 1) {
      const readings: number[] = [];
      const sampler = setInterval(() => readings.push(server.rssMiB()), 250);
      await load({
        url: server.url,
        method: 'GET',
        path: '/auth/me',
        next: () => ({ headers: { authorization: `Bearer ${tokens[next++ % tokens.length]}` } }),
        amount: perStep,
        expectStatus: 200,
      }).finally(() => clearInterval(sampler));
      const point = read(`${(step * perStep).toLocaleString('en-US')} GET /auth/me requests`);
      point.stepMedianMiB = median(readings);
      progress(`memory: median during that step ${point.stepMedianMiB.toFixed(1)} MiB (${readings.length} readings)`);
    }

    const counts = await pool(tokens, 2, async (token) => {
      const revoked = await call<{ revokedCount: number }>(server.url, 'POST', '/auth/sessions/revoke-all', {}, token);
      if (revoked.status !== 200) throw new Error(`revoke-all answered ${revoked.status}`);
      return revoked.body.revokedCount;
    });
    const total = counts.reduce((sum, count) => sum + count, 0);
    if (total !== options.users * (options.sessionsPerUser + 1)) throw new Error(`revoked ${total} sessions`);
    read(`revoking ${total.toLocaleString('en-US')} sessions`);
    await settle(5_000);
    read('5 s idle after the revocations');

    const start = points[0].rssMiB;
    return points.map((point) => ({ ...point, ratioToStart: point.rssMiB / start }));
  } finally {
    await server.stop();
    await database.release();
  }
}
