import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { EMBEDDED_POSTGRES_POOL_SIZE, runMigrations, startEmbeddedPostgres } from '@app/platform';
import { sql } from '../support/sql';
import { createTestDatabase, TestDatabase } from '../support/test-database';

jest.setTimeout(60_000);

/** Slow enough that two instances starting together overlap. */
class CreateWidgets1700000000000 implements MigrationInterface {
  name = 'CreateWidgets1700000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE TABLE widgets (id int PRIMARY KEY)');
    await queryRunner.query('SELECT pg_sleep(0.5)');
    await queryRunner.query('INSERT INTO widgets VALUES (1)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE widgets');
  }
}

/** Three statements of 0.3 s: each one is quick, all together they take longer than a request may. */
class SlowSteps1700000000003 implements MigrationInterface {
  name = 'SlowSteps1700000000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (let step = 0; step < 3; step++) await queryRunner.query('SELECT pg_sleep(0.3)');
  }

  async down(): Promise<void> {}
}

class AddGadgets1700000000001 implements MigrationInterface {
  name = 'AddGadgets1700000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE TABLE gadgets (id int PRIMARY KEY)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE gadgets');
  }
}

class Broken1700000000002 implements MigrationInterface {
  name = 'Broken1700000000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE TABLE half_done (id int)');
    await queryRunner.query('SELECT * FROM no_such_table');
  }

  async down(): Promise<void> {}
}

type MigrationClass = new () => MigrationInterface;

/** An app instance as the runtime builds it: one pool, with request-sized timeouts. */
async function instance(url: string, migrations: MigrationClass[], extra: Record<string, unknown> = {}): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations,
    migrationsTransactionMode: 'all',
    extra: { max: 1, connectionTimeoutMillis: 5_000, ...extra },
  });
  return dataSource.initialize();
}

/** In this test's database only: pg_locks is server-wide, and other test files take advisory locks of their own. */
async function advisoryLocksHeld(url: string): Promise<number> {
  const [row] = await sql<{ count: number }>(
    url,
    "SELECT count(*)::int AS count FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
  );
  return row.count;
}

describe('runMigrations against PostgreSQL', () => {
  let database: TestDatabase;
  const dataSources: DataSource[] = [];

  beforeEach(async () => {
    database = await createTestDatabase();
  });

  afterEach(async () => {
    await Promise.all(dataSources.splice(0).map((dataSource) => dataSource.destroy()));
    await database.drop();
  });

  async function start(migrations: MigrationClass[], extra?: Record<string, unknown>): Promise<DataSource> {
    const dataSource = await instance(database.url, migrations, extra);
    dataSources.push(dataSource);
    return dataSource;
  }

  it('lets two instances started together run the migrations once, one after the other', async () => {
    const [first, second] = await Promise.all([start([CreateWidgets1700000000000]), start([CreateWidgets1700000000000])]);

    const results = await Promise.all([runMigrations(first, { lock: true }), runMigrations(second, { lock: true })]);

    // One of them ran it; the other waited, then found nothing pending.
    expect(results.map((executed) => executed.map((migration) => migration.name)).sort()).toEqual([[], ['CreateWidgets1700000000000']]);
    await expect(sql(database.url, 'SELECT id FROM widgets')).resolves.toEqual([{ id: 1 }]);
    await expect(sql(database.url, 'SELECT name FROM migrations')).resolves.toEqual([{ name: 'CreateWidgets1700000000000' }]);
    await expect(advisoryLocksHeld(database.url)).resolves.toBe(0);
  });

  // The control: the same race without the lock does go wrong, so the test above can fail.
  it('races without the lock: one of two instances fails', async () => {
    const [first, second] = await Promise.all([start([CreateWidgets1700000000000]), start([CreateWidgets1700000000000])]);

    const results = await Promise.allSettled([runMigrations(first, { lock: false }), runMigrations(second, { lock: false })]);

    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('exempts migrations from statement_timeout, waits beyond query_timeout, and leaves both as they were', async () => {
    // statement_timeout is below one step; query_timeout (client-side) is above one step, below the whole wait.
    const timeouts = { statement_timeout: 200, query_timeout: 500, idle_in_transaction_session_timeout: 200 };
    const [first, second] = await Promise.all([start([SlowSteps1700000000003], timeouts), start([SlowSteps1700000000003], timeouts)]);

    const started = Date.now();
    const results = await Promise.all([runMigrations(first, { lock: true }), runMigrations(second, { lock: true })]);

    expect(results.flat()).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThan(900);
    // The SET LOCALs ended with the migration transaction.
    await expect(first.query('SHOW statement_timeout')).resolves.toEqual([{ statement_timeout: '200ms' }]);
    await expect(first.query('SELECT pg_sleep(0.3)')).rejects.toThrow(/statement timeout/);
  });

  it('needs a single connection, and runs only what is pending', async () => {
    const dataSource = await start([CreateWidgets1700000000000]);
    await expect(runMigrations(dataSource, { lock: true })).resolves.toHaveLength(1);
    await dataSource.destroy();
    dataSources.pop();

    const upgraded = await start([CreateWidgets1700000000000, AddGadgets1700000000001]);
    const executed = await runMigrations(upgraded, { lock: true });
    expect(executed.map((migration) => migration.name)).toEqual(['AddGadgets1700000000001']);
    await expect(runMigrations(upgraded, { lock: true })).resolves.toEqual([]);
  });

  it('rolls everything back when a migration fails, and releases the lock', async () => {
    const dataSource = await start([AddGadgets1700000000001, Broken1700000000002]);

    await expect(runMigrations(dataSource, { lock: true })).rejects.toThrow(/no_such_table/);

    // Not even the migrations table survives: it was created in the same transaction.
    await expect(sql(database.url, "SELECT to_regclass('gadgets') AS gadgets, to_regclass('migrations') AS migrations")).resolves.toEqual([
      { gadgets: null, migrations: null },
    ]);
    await expect(advisoryLocksHeld(database.url)).resolves.toBe(0);
    // The connection went back to the pool in a usable state.
    await expect(dataSource.query('SELECT 1 AS ok')).resolves.toEqual([{ ok: 1 }]);
  });
});

describe('runMigrations against the embedded database', () => {
  it('runs without the lock through a pool of one', async () => {
    const embedded = await startEmbeddedPostgres();
    const dataSource = await new DataSource({
      type: 'postgres',
      url: embedded.url,
      migrations: [AddGadgets1700000000001],
      extra: { max: EMBEDDED_POSTGRES_POOL_SIZE },
    }).initialize();
    try {
      await expect(runMigrations(dataSource, { lock: false })).resolves.toHaveLength(1);
      await expect(runMigrations(dataSource, { lock: false })).resolves.toEqual([]);
      await expect(dataSource.query('SELECT count(*)::int AS count FROM gadgets')).resolves.toEqual([{ count: 0 }]);
    } finally {
      await dataSource.destroy();
      await embedded.close();
    }
  });
});
