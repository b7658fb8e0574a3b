import { DataSource } from 'typeorm';
import { SESSIONS_MIGRATIONS } from '../../libs/sessions/src/infrastructure/typeorm/schema';
import { revertLast, runMigrationList } from '../../libs/sessions/src/infrastructure/typeorm/sessions-migrations';
import { sql } from '../support/sql';
import { createTestDatabase, TestDatabase } from '../support/test-database';

jest.setTimeout(60_000);

const before = SESSIONS_MIGRATIONS.filter((migration) => migration.name !== 'NormalizeStoredEmails1764000000500');

describe('NormalizeStoredEmails1764000000500 (issue 8 #23)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    await runMigrationList(dataSource, before);
  });

  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await database?.drop();
  });

  const emails = async () =>
    Object.fromEntries((await sql<{ id: string; email: string }>(database.url, 'SELECT id, email FROM users ORDER BY id')).map((row) => [row.id, row.email]));

  it('rewrites stored emails that the new normalization changes, leaves look-alike conflicts alone, and reverts', async () => {
    const stored = {
      '00000000-0000-7000-8000-000000000001': 'ada@example.com',
      '00000000-0000-7000-8000-000000000002': 'jose\u0301@example.com', // NFD, as typed before
      '00000000-0000-7000-8000-000000000003': 'ada@bücher.de',
      '00000000-0000-7000-8000-000000000004': 'ｍａｘ@example.com',
      '00000000-0000-7000-8000-000000000005': 'max@example.com', // the full-width one's normalized form is taken
    };
    for (const [id, email] of Object.entries(stored)) {
      await sql(database.url, `INSERT INTO users (id, email, password_hash, role, created_at) VALUES ($1, $2, 'x', 'user', now())`, [id, email]);
    }

    await expect(runMigrationList(dataSource, SESSIONS_MIGRATIONS)).resolves.toEqual({ executed: ['NormalizeStoredEmails1764000000500'], adopted: [] });
    await expect(emails()).resolves.toEqual({
      '00000000-0000-7000-8000-000000000001': 'ada@example.com',
      '00000000-0000-7000-8000-000000000002': 'jos\u00e9@example.com',
      '00000000-0000-7000-8000-000000000003': 'ada@xn--bcher-kva.de',
      '00000000-0000-7000-8000-000000000004': 'ｍａｘ@example.com',
      '00000000-0000-7000-8000-000000000005': 'max@example.com',
    });

    await expect(revertLast(dataSource, SESSIONS_MIGRATIONS)).resolves.toBe('NormalizeStoredEmails1764000000500');
    await expect(emails()).resolves.toEqual(stored);
    const columns = await sql(
      database.url,
      `SELECT 1 FROM information_schema.columns WHERE table_schema = 'sessions' AND table_name = 'users' AND column_name = 'email_as_registered'`,
    );
    expect(columns).toHaveLength(0);
  });
});
