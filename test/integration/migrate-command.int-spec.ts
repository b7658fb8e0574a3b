import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { SESSIONS_MIGRATIONS } from '../../libs/sessions/src/infrastructure/typeorm/schema';
import { buildService } from '../support/service-process';
import { sql } from '../support/sql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(120_000);

const exec = promisify(execFile);

/** The JSON line of stdout with this `msg`. */
function line(output: string, msg: string): Record<string, unknown> | undefined {
  return output
    .split('\n')
    .filter((text) => text.startsWith('{'))
    .map((text) => JSON.parse(text) as Record<string, unknown>)
    .find((parsed) => parsed.msg === msg);
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run migrate` without the build step: the built src/migrate.js, in the build's directory (no developer .env). */
async function migrate(env: Record<string, string>): Promise<Run> {
  const dir = await buildService();
  try {
    const { stdout, stderr } = await exec(process.execPath, [path.join(dir, 'src/migrate.js')], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env } });
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
