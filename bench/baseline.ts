import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { call, load, type LoadResult, pool } from './http-load';
import { type HttpFigures, rotate, summarize } from './http-routes';
import { Seeder } from './seed';
import { BenchServer, REPO_ROOT } from './server';
import { BENCH_SCHEMA, benchDatabase, benchRedisPrefix, median, onCleanup, progress, REDIS_URL, withClient } from './support';

const run = promisify(execFile);

export const BASELINE_ROUTES = ['/auth/refresh', '/auth/logout'] as const;
export type BaselineRoute = (typeof BASELINE_ROUTES)[number];

export interface BaselineRow {
  readonly route: BaselineRoute;
  readonly ours: HttpFigures;
  readonly baseline: HttpFigures;
  /** Our req/s over the baseline's: the median over the rounds of the ratio within each round. */
  readonly ratio: number;
}

export type BaselineResult =
  | { readonly skipped: string }
  | { readonly rev: string; readonly commit: string; readonly subject: string; readonly rounds: number; readonly rows: BaselineRow[] };

export interface BaselineOptions {
  readonly rounds: number;
  /** Requests per timed run (each consumes one seeded refresh token). */
  readonly tokenRequests: number;
}

export const DEFAULT_BASELINE: BaselineOptions = { rounds: 6, tokenRequests: 1_000 };

const USERS = 4;
const PASSWORD = 'correct horse battery staple';

const git = async (args: string[]) => (await run('git', args, { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 })).stdout.trim();

/**
 * A git worktree of `commit` in a temporary directory, with this checkout's node_modules linked
 * in and built with its own .swcrc into its own .bench-build (as `npm run bench` builds ours).
 * Removed again at the end of the run.
 */
async function buildBaseline(commit: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-baseline-'));
  onCleanup(`baseline worktree ${dir}`, async () => {
    await git(['worktree', 'remove', '--force', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await git(['worktree', 'prune']).catch(() => undefined);
  });
  await git(['worktree', 'add', '--detach', dir, commit]);
  const modules = realpathSync(path.join(REPO_ROOT, 'node_modules'));
  symlinkSync(modules, path.join(dir, 'node_modules'), 'dir');
  // The linked node_modules is this checkout's: a package the baseline needs and it lacks is named here, not as a crash at start-up.
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const missing = Object.keys(manifest.dependencies ?? {}).filter((name) => !existsSync(path.join(modules, name, 'package.json')));
  if (missing.length > 0) throw new Error(`the baseline needs packages this checkout's node_modules lacks: ${missing.join(', ')}`);
  const started = Date.now();
  await run(path.join(modules, '.bin', 'swc'), ['src', 'apps', 'libs', '-d', '.bench-build', '--config-file', '.swcrc', '-q', '--ignore', '**/*.spec.ts'], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  });
  progress(`baseline: built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return path.join(dir, '.bench-build');
}

/** Accounts registered over HTTP, then refresh tokens seeded for them: a fresh one for every request. */
async function seedTokens(server: BenchServer, databaseUrl: string, label: string, count: number): Promise<string[]> {
  const userIds = await pool(
    Array.from({ length: USERS }, (_, i) => `bench-baseline-${label}-${i}@example.com`),
    2,
    async (email) => {
      const registered = await call<{ userId: string }>(server.url, 'POST', '/auth/register', { email, password: PASSWORD });
      if (registered.status !== 201) throw new Error(`${server.label}: register answered ${registered.status}`);
      return registered.body.userId;
    },
  );
  return withClient(databaseUrl, async (client) => {
    const seeder = new Seeder(client, BENCH_SCHEMA);
    const sessions = await seeder.spread(userIds, count);
    await seeder.settle();
    return sessions.map((id) => seeder.tokenOf(id));
  });
}

/**
 * POST /auth/refresh and POST /auth/logout of this build against another revision's
 * (BENCH_BASELINE_REV), each on a database of its own, in rounds that alternate the two servers.
 */
export async function measureBaseline(options: BaselineOptions = DEFAULT_BASELINE, rev = process.env.BENCH_BASELINE_REV?.trim()): Promise<BaselineResult> {
  if (!rev) {
    return {
      skipped:
        'BENCH_BASELINE_REV unset: no other revision built, so no refresh/logout figures against a baseline (set it to a commit, e.g. the last one on Express)',
    };
  }
  let commit: string;
  try {
    commit = await git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  } catch {
    throw new Error(`BENCH_BASELINE_REV=${rev} is not a commit of this repository`);
  }
  const subject = await git(['log', '-1', '--format=%h %s', commit]);
  progress(`baseline: building ${subject}`);
  const buildDir = await buildBaseline(commit);

  const [oursDb, baselineDb] = await Promise.all([benchDatabase(), benchDatabase()]);
  const start = (label: string, databaseUrl: string, dir?: string) =>
    BenchServer.start({ label, databaseUrl, redisUrl: REDIS_URL, cachePrefix: benchRedisPrefix(label).prefix, ...(dir ? { buildDir: dir } : {}) });
  const ours = await start('ours', oursDb.url);
  const baseline = await start(`baseline-${commit.slice(0, 8)}`, baselineDb.url, buildDir);
  try {
    const warmup = Math.ceil(options.tokenRequests / 4);
    const perRoute = warmup + options.rounds * options.tokenRequests + 200;
    const pools = {
      ours: await seedTokens(ours, oursDb.url, 'ours', 2 * perRoute),
      baseline: await seedTokens(baseline, baselineDb.url, 'baseline', 2 * perRoute),
    };
    const servers = { ours, baseline };
    const next = {
      ours: { '/auth/refresh': rotate(pools.ours.slice(0, perRoute)), '/auth/logout': rotate(pools.ours.slice(perRoute)) },
      baseline: { '/auth/refresh': rotate(pools.baseline.slice(0, perRoute)), '/auth/logout': rotate(pools.baseline.slice(perRoute)) },
    };
    const tokenLoad = (which: 'ours' | 'baseline', route: BaselineRoute, amount: number) => {
      const server = servers[which];
      const token = next[which][route];
      return load({
        url: server.url,
        method: 'POST',
        path: route,
        next: () => ({ body: { refreshToken: token() } }),
        amount,
        expectStatus: route === '/auth/refresh' ? 200 : 204,
        serverCpuMs: () => server.cpuMs(),
      });
    };

    const rows: BaselineRow[] = [];
    for (const route of BASELINE_ROUTES) {
      progress(`baseline: POST ${route}`);
      await tokenLoad('ours', route, warmup);
      await tokenLoad('baseline', route, warmup);
      const runs: Record<'ours' | 'baseline', LoadResult[]> = { ours: [], baseline: [] };
      for (let r = 0; r < options.rounds; r += 1) {
        const order = r % 2 === 0 ? (['ours', 'baseline'] as const) : (['baseline', 'ours'] as const);
        for (const which of order) runs[which].push(await tokenLoad(which, route, options.tokenRequests));
      }
      const ratio = median(runs.ours.map((run, r) => run.requestsPerSecond / runs.baseline[r].requestsPerSecond));
      progress(
        `baseline: POST ${route}: ours ${runs.ours.map((run) => run.requestsPerSecond.toFixed(0)).join('/')}, ` +
          `baseline ${runs.baseline.map((run) => run.requestsPerSecond.toFixed(0)).join('/')} req/s; ratio ${ratio.toFixed(2)}`,
      );
      rows.push({ route, ours: summarize(runs.ours), baseline: summarize(runs.baseline), ratio });
    }
    return { rev, commit, subject, rounds: options.rounds, rows };
  } finally {
    await Promise.all([ours.stop(), baseline.stop()]);
    await Promise.all([oursDb.release(), baselineDb.release()]);
  }
}
