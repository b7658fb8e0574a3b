import { createClient } from '@keyv/redis';
import autocannonPackage from 'autocannon/package.json';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { Client } from 'pg';
import { TEST_POSTGRES_ADMIN_URL } from '../test/support/test-database';
import { REDIS_URL } from './support';

export interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly postgres: string;
  readonly postgresSettings: Record<string, string>;
  readonly redis: string;
  readonly autocannon: string;
  readonly commit: string;
  readonly loadAverageAtStart: readonly number[];
}

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** What the figures were measured on: they mean little without it. */
export async function describeMachine(): Promise<Machine> {
  const model = /^Model name:\s*(.+)$/m.exec(run('lscpu', []))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const pg = new Client({ connectionString: TEST_POSTGRES_ADMIN_URL });
  await pg.connect();
  let postgres: string;
  const postgresSettings: Record<string, string> = {};
  try {
    postgres = /^PostgreSQL [\d.]+/.exec((await pg.query<{ version: string }>('SELECT version()')).rows[0].version)?.[0] ?? 'PostgreSQL ?';
    const settings = await pg.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM pg_settings
        WHERE name IN ('shared_buffers', 'work_mem', 'synchronous_commit', 'max_wal_size', 'checkpoint_timeout', 'full_page_writes') ORDER BY name`,
    );
    for (const row of settings.rows) postgresSettings[row.name] = row.setting;
  } finally {
    await pg.end();
  }
  const redisClient = createClient({ url: REDIS_URL });
  await redisClient.connect();
  let redis: string;
  try {
    redis = `Redis ${/redis_version:([\d.]+)/.exec(await redisClient.info('server'))?.[1] ?? '?'}`;
  } finally {
    redisClient.destroy();
  }
  const head = run('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = run('git', ['status', '--porcelain', '--untracked-files=no']) !== '';
  return {
    cores: Number(run('nproc', [])) || os.availableParallelism(),
    cpuModel: model,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres,
    postgresSettings,
    redis,
    autocannon: autocannonPackage.version,
    commit: head ? `${head}${dirty ? ' (with uncommitted changes)' : ''}` : 'unknown',
    loadAverageAtStart: os.loadavg().map((value) => Math.round(value * 100) / 100),
  };
}
