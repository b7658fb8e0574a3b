import { DataSource } from 'typeorm';
import { SESSIONS_MIGRATIONS } from '../../libs/sessions/src/infrastructure/typeorm/schema';
import { revertLast, runMigrationList } from '../../libs/sessions/src/infrastructure/typeorm/sessions-migrations';
import { sql } from '../support/sql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(60_000);

const BEFORE = SESSIONS_MIGRATIONS.filter((migration) => migration.name !== 'OneLiveRefreshTokenAndInstances1764000000600');

describe('migration 1764000000600 (one live refresh token per session, instances)', () => {
  let database: TestDatabase;
  const dataSources: DataSource[] = [];

  const open = async () => {
    const dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    dataSources.push(dataSource);
    return dataSource;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    for (const dataSource of dataSources) if (dataSource.isInitialized) await dataSource.destroy();
    await database?.drop();
  });

  it('keeps the newest live token of a session that a grace replay forked, and is reversible', async () => {
    await runMigrationList(await open(), BEFORE);
    // A session forked by the old grace replay: two live tokens, the second issued later.
    await sql(
      database.url,
      `INSERT INTO users (id, email, password_hash, role, created_at) VALUES ('00000000-0000-7000-8000-000000000001', 'fork@example.com', 'x', 'user', now());
       INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at) VALUES ('00000000-0000-7000-9000-000000000001', '00000000-0000-7000-8000-000000000001', now(), now(), now() + interval '1 day');
       INSERT INTO refresh_tokens (id, session_id, user_id, token_hash, issued_at, expires_at) VALUES
         ('00000000-0000-7000-a000-000000000001', '00000000-0000-7000-9000-000000000001', '00000000-0000-7000-8000-000000000001', sha256('one'), now() - interval '2 seconds', now() + interval '1 day'),
         ('00000000-0000-7000-a000-000000000002', '00000000-0000-7000-9000-000000000001', '00000000-0000-7000-8000-000000000001', sha256('two'), now() - interval '1 second', now() + interval '1 day');`,
    );
    const full = await open();
    expect((await runMigrationList(full, SESSIONS_MIGRATIONS)).executed).toEqual(['OneLiveRefreshTokenAndInstances1764000000600']);
    const live = await sql(database.url, 'SELECT id, rotated_at FROM refresh_tokens WHERE revoked_at IS NULL');
    expect(live).toEqual([{ id: '00000000-0000-7000-a000-000000000002', rotated_at: null }]);
    // The older fork is refused, not taken for reuse (it was never rotated).
    expect(await sql(database.url, `SELECT rotated_at FROM refresh_tokens WHERE id = '00000000-0000-7000-a000-000000000001'`)).toEqual([{ rotated_at: null }]);
    expect(await sql(database.url, `SELECT to_regclass('sessions.instances') IS NOT NULL AS present`)).toEqual([{ present: true }]);

    await expect(revertLast(full, SESSIONS_MIGRATIONS)).resolves.toBe('OneLiveRefreshTokenAndInstances1764000000600');
    expect(await sql(database.url, `SELECT to_regclass('sessions.instances') IS NOT NULL AS present`)).toEqual([{ present: false }]);
    expect(await sql(database.url, `SELECT to_regclass('sessions.refresh_tokens_one_live_per_session_key') IS NOT NULL AS present`)).toEqual([
      { present: false },
    ]);
    expect((await runMigrationList(full, SESSIONS_MIGRATIONS)).executed).toEqual(['OneLiveRefreshTokenAndInstances1764000000600']);
  });
});
