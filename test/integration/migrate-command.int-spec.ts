import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { startRuntime, createAppLogger } from '@app/runtime';
import { sessionsMigrationStatus } from '@app/sessions';
import { DataSource } from 'typeorm';
import { runMigrationList } from '../../libs/sessions/src/infrastructure/typeorm/sessions-migrations';
import { SESSIONS_MIGRATIONS } from '../../libs/sessions/src/infrastructure/typeorm/schema';
import { buildService, freePort, ServiceProcess } from '../support/service-process';
import { sql } from '../support/sql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(120_000);

const exec = promisify(execFile);

/** The JSON line of the output with this `msg`, without what every line has (level, time, pid, hostname, context). */
function line(output: string, msg: string): Record<string, unknown> | undefined {
  const found = output
    .split('\n')
    .filter((text) => text.startsWith('{'))
    .map((text) => JSON.parse(text) as Record<string, unknown>)
    .find((parsed) => parsed.msg === msg);
  if (!found) return undefined;
  const { level, time, pid, hostname, context, ...rest } = found;
  expect(typeof level === 'string' && typeof time === 'string' && typeof pid === 'number' && typeof hostname === 'string' && context === 'Migrate').toBe(true);
  return rest;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run migrate [command]` without the build step: the built src/migrate.js, in the build's directory (no developer .env). */
async function migrate(env: Record<string, string>, ...args: string[]): Promise<Run> {
  const dir = await buildService();
  try {
    const { stdout, stderr } = await exec(process.execPath, [path.join(dir, 'src/migrate.js'), ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run migrate (src/migrate.ts)', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('migrates DATABASE_URL, then finds nothing to do', async () => {
    const first = await migrate({ DATABASE_URL: database.url });
    expect(first).toMatchObject({ code: 0 });
    expect(line(first.stdout, 'sessions_migrations_done')).toMatchObject({ adopted: [], executed: expect.arrayContaining(['InitialSchema1764000000000']) });
    await expect(sql(database.url, 'SELECT count(*)::int AS count FROM sessions.migrations')).resolves.toEqual([{ count: SESSIONS_MIGRATIONS.length }]);

    const second = await migrate({ DATABASE_URL: database.url });
    expect(line(second.stdout, 'sessions_migrations_done')).toEqual({ msg: 'sessions_migrations_done', executed: [], adopted: [] });
  });

  it('exits 2 without DATABASE_URL and 1 when the database cannot be reached', async () => {
    await expect(migrate({})).resolves.toMatchObject({ code: 2, stderr: expect.stringContaining('DATABASE_URL is not set') });
    const unreachable = await migrate({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none' });
    expect(unreachable.code).toBe(1);
    expect(line(unreachable.stderr, 'sessions_migrations_failed')).toBeDefined();
  });
});

const NAMES = SESSIONS_MIGRATIONS.map((migration) => migration.name);
const historyCount = async (url: string) => (await sql<{ count: number }>(url, 'SELECT count(*)::int AS count FROM sessions.migrations'))[0].count;

describe('npm run migrate:status and migrate:revert', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('lists every migration as pending on a new database (exit 3), then as applied, in order and with when (exit 0)', async () => {
    const before = await migrate({ DATABASE_URL: database.url }, 'status');
    expect(before.code).toBe(3);
    expect(line(before.stdout, 'sessions_migrations_status')).toEqual({
      msg: 'sessions_migrations_status',
      schema: 'sessions',
      current: false,
      applied: [],
      pending: NAMES,
      inPublic: [],
    });

    expect(await migrate({ DATABASE_URL: database.url }, 'run')).toMatchObject({ code: 0 });
    const after = await migrate({ DATABASE_URL: database.url }, 'status');
    expect(after.code).toBe(0);
    const status = line(after.stdout, 'sessions_migrations_status') as { current: boolean; applied: Array<{ name: string; runAt: string }>; pending: string[] };
    expect(status).toMatchObject({ current: true, pending: [] });
    expect(status.applied.map((applied) => applied.name)).toEqual(NAMES);
    for (const { runAt } of status.applied) expect(Date.now() - Date.parse(runAt)).toBeLessThan(120_000);
  });

  it('reverts the last migration only, which status then lists as pending and the next run applies again', async () => {
    const last = NAMES[NAMES.length - 1];
    const revert = await migrate({ DATABASE_URL: database.url }, 'revert');
    expect(revert.code).toBe(0);
    expect(line(revert.stdout, 'sessions_migration_reverted')).toEqual({ msg: 'sessions_migration_reverted', schema: 'sessions', reverted: last });
    await expect(historyCount(database.url)).resolves.toBe(NAMES.length - 1);

    const status = await migrate({ DATABASE_URL: database.url }, 'status');
    expect(status.code).toBe(3);
    expect(line(status.stdout, 'sessions_migrations_status')).toMatchObject({ current: false, pending: [last] });

    const rerun = await migrate({ DATABASE_URL: database.url });
    expect(line(rerun.stdout, 'sessions_migrations_done')).toEqual({ msg: 'sessions_migrations_done', executed: [last], adopted: [] });
  });

  it('refuses to revert the migration that created the schema (exit 2), and an unknown command', async () => {
    const fresh = await createTestDatabase();
    const dataSource = await new DataSource({ type: 'postgres', url: fresh.url }).initialize();
    try {
      await runMigrationList(dataSource, SESSIONS_MIGRATIONS.slice(0, 1));
      const refused = await migrate({ DATABASE_URL: fresh.url }, 'revert');
      expect(refused.code).toBe(2);
      expect(line(refused.stderr, 'sessions_migration_revert_refused')).toMatchObject({
        migration: NAMES[0],
        error: expect.stringContaining('drop every sessions table'),
      });
      await expect(historyCount(fresh.url)).resolves.toBe(1);
      await expect(sql(fresh.url, 'SELECT count(*)::int AS count FROM sessions.users')).resolves.toEqual([{ count: 0 }]);
    } finally {
      await dataSource.destroy();
      await fresh.drop();
    }
    const unknown = await migrate({ DATABASE_URL: database.url }, 'down');
    expect(unknown.code).toBe(2);
    expect(line(unknown.stderr, 'sessions_migrations_usage')).toMatchObject({ error: expect.stringContaining('use run (the default), status or revert') });
  });
});

describe('MIGRATIONS_AT_STARTUP=verify', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  const production = (url: string) => ({
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    DATABASE_URL: url,
    IN_PROCESS_CACHE_SINGLE_INSTANCE: 'true',
    ACCESS_TOKEN_SECRET: 'migrations-at-startup-secret-of-32-chars',
    MIGRATIONS_AT_STARTUP: 'verify',
  });

  it('refuses to start on a schema with pending migrations, naming them, and leaves the schema as it was', async () => {
    const dir = await buildService();
    const dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    try {
      await runMigrationList(dataSource, SESSIONS_MIGRATIONS.slice(0, 2));
    } finally {
      await dataSource.destroy();
    }
    const started = await exec(process.execPath, [path.join(dir, 'src/main.js')], {
      cwd: dir,
      env: { ...production(database.url), PORT: String(await freePort()) },
      timeout: 30_000,
    }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    expect(started.code).toBe(1);
    // A production line like every other: JSON, level fatal.
    const lines = started.stdout
      .split('\n')
      .filter((text) => text !== '')
      .map((text) => JSON.parse(text) as { level: string; msg: string });
    const failure = lines.find((entry) => entry.msg.startsWith('Start-up failed:'));
    expect(failure?.level).toBe('fatal');
    expect(failure?.msg).toContain(
      `Start-up failed: MIGRATIONS_AT_STARTUP=verify: Sessions migrations pending in schema "sessions": ${NAMES.slice(2).join(', ')}`,
    );
    await expect(historyCount(database.url)).resolves.toBe(2);
  });

  it('starts once the deploy step migrated the schema', async () => {
    expect(await migrate({ DATABASE_URL: database.url })).toMatchObject({ code: 0 });
    const service = await ServiceProcess.start({
      label: 'verify',
      apps: 'web',
      databaseUrl: database.url,
      redisUrl: '',
      cachePrefix: 'verify:',
      env: { ...production(database.url), REDIS_URL: '' },
    });
    try {
      const ready = await fetch(`${service.webUrl}/health/ready`);
      expect(ready.status).toBe(200);
    } finally {
      await service.stop();
    }
    await expect(historyCount(database.url)).resolves.toBe(NAMES.length);
  });

  it("does not apply to the embedded database, which is new or this process's own: it is always migrated", async () => {
    const runtime = await startRuntime({
      database: { poolSize: 1, statementTimeoutMs: 5_000 },
      cache: { store: 'keyv-redis' },
      sessions: { accessTokenSecret: 'embedded-verify-secret-of-at-least-32-chars' },
      http: { host: '127.0.0.1', bodyLimit: '16kb', trustProxy: false },
      logger: createAppLogger({ nodeEnv: 'test', level: 'error' }),
      migrationsAtStartup: 'verify',
    });
    try {
      expect(runtime.embeddedDatabase).toBe(true);
      await expect(sessionsMigrationStatus(runtime.dataSource)).resolves.toEqual({
        applied: NAMES.map((name) => ({ name, runAt: expect.any(Date) })),
        pending: [],
        inPublic: [],
      });
    } finally {
      await runtime.close();
    }
  });
});
