import { DataSource } from 'typeorm';
import { isDependencyUnavailable } from '@app/platform';
import { expectEventually } from '../support/eventually';
import { sql } from '../support/sql';
import { createTestDatabase, TestDatabase } from '../support/test-database';

jest.setTimeout(30_000);

/** The error a promise rejects with; fails the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** The errors real PostgreSQL and TypeORM produce, as the filter will meet them. */
describe('isDependencyUnavailable with real errors', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await new DataSource({
      type: 'postgres',
      url: database.url,
      extra: { max: 2, statement_timeout: 100 },
    }).initialize();
  });

  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  it('does not mistake a constraint violation for an outage', async () => {
    await dataSource.query('CREATE TABLE unique_things (id int PRIMARY KEY)');
    await dataSource.query('INSERT INTO unique_things VALUES (1)');
    const error = await rejection(dataSource.query('INSERT INTO unique_things VALUES (1)'));
    expect(error).toMatchObject({ code: '23505' });
    expect(isDependencyUnavailable(error)).toBe(false);
  });

  it('recognises a statement cancelled by statement_timeout (57014)', async () => {
    const error = await rejection(dataSource.query('SELECT pg_sleep(1)'));
    expect(error).toMatchObject({ name: 'QueryFailedError', driverError: expect.objectContaining({ code: '57014' }) });
    expect(isDependencyUnavailable(error)).toBe(true);
  });

  // Runs last: the pool may hand the terminated connection out once more before it notices.
  it('recognises a query whose connection the server terminated (57P01)', async () => {
    const queryRunner = dataSource.createQueryRunner();
    await queryRunner.connect();
    try {
      const [{ pid }] = (await queryRunner.query('SELECT pg_backend_pid() AS pid')) as Array<{ pid: number }>;
      // As when PostgreSQL restarts under a request: the running statement is cut off. (The
      // connection is about to die, so its statement_timeout can be lifted for good.)
      const running = rejection(queryRunner.query('SET statement_timeout = 0; SELECT pg_sleep(5)'));
      // Terminated before the statement starts, the connection would fail some other way.
      await expectEventually(async () =>
        expect(await sql(database.url, 'SELECT state, query FROM pg_stat_activity WHERE pid = $1', [pid])).toEqual([
          { state: 'active', query: expect.stringContaining('pg_sleep(5)') },
        ]),
      );
      await sql(database.url, 'SELECT pg_terminate_backend($1)', [pid]);
      const error = await running;
      expect(error).toMatchObject({ name: 'QueryFailedError', driverError: expect.objectContaining({ code: '57P01' }) });
      expect(isDependencyUnavailable(error)).toBe(true);
    } finally {
      await queryRunner.release();
    }
  });

  it('recognises a server that is not there (ECONNREFUSED)', async () => {
    const unreachable = new DataSource({ type: 'postgres', url: 'postgresql://postgres@127.0.0.1:1/postgres', connectTimeoutMS: 1_000 });
    const error = await rejection(unreachable.initialize());
    expect(isDependencyUnavailable(error)).toBe(true);
  });
});
