import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { DataSource, Migration, MigrationExecutor, QueryRunner } from 'typeorm';

export interface RunMigrationsOptions {
  /**
   * Take a PostgreSQL advisory lock first, so instances starting together run the migrations
   * one after the other. Leave it off for the embedded database, where locks exclude nothing.
   */
  readonly lock: boolean;
}

/** How often a waiting instance asks for the lock again. */
const LOCK_POLL_MS = 200;

const logger = new Logger('Migrations');

/**
 * Runs the pending migrations of `dataSource` in one transaction, on one connection, and returns
 * those it ran.
 *
 * Everything happens on a single QueryRunner, so a pool of one connection is enough: we open the
 * transaction, take a transaction-level advisory lock in it, then hand that QueryRunner to
 * TypeORM's MigrationExecutor (`transaction: 'all'`). Finding the transaction already open, the
 * executor runs inside it: creating the migrations table, reading which migrations ran, the
 * migrations themselves and their bookkeeping rows all commit together, or not at all. The lock
 * ends with the transaction, also when the process dies, so it cannot leak into the pool. An
 * instance that waited then reads (READ COMMITTED, a fresh snapshot per statement) that nothing
 * is pending.
 *
 * Migrations must use the QueryRunner they are given: another connection would wait for this
 * transaction, and with a pool of one, for ever.
 */
export async function runMigrations(dataSource: DataSource, options: RunMigrationsOptions): Promise<Migration[]> {
  const queryRunner = dataSource.createQueryRunner();
  try {
    await queryRunner.connect();
    await queryRunner.startTransaction();
    try {
      await exemptFromSessionTimeouts(queryRunner);
      if (options.lock) await takeMigrationLock(queryRunner, lockName(dataSource));
      const executor = new MigrationExecutor(dataSource, queryRunner);
      executor.transaction = 'all';
      await queryRunner.beforeMigration();
      const executed = await executor.executePendingMigrations();
      await queryRunner.afterMigration();
      await queryRunner.commitTransaction();
      return executed;
    } catch (error) {
      // The original error matters; a failed rollback (connection gone) ends the transaction anyway.
      await queryRunner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  } finally {
    await queryRunner.release();
  }
}

/**
 * The app's statement_timeout and idle_in_transaction_session_timeout (set per connection) are
 * sized for requests: waiting for another instance's migrations, or a slow migration, must not
 * trip them. SET LOCAL ends with the transaction, leaving the pooled connection as it was.
 */
async function exemptFromSessionTimeouts(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query('SET LOCAL statement_timeout = 0');
  await queryRunner.query('SET LOCAL idle_in_transaction_session_timeout = 0');
}

/**
 * Polls pg_try_advisory_xact_lock rather than blocking in pg_advisory_xact_lock: a blocked
 * statement would still trip pg's client-side query_timeout, which SET LOCAL cannot lift.
 */
async function takeMigrationLock(queryRunner: QueryRunner, name: string): Promise<void> {
  const tryLock = async () => {
    const [row] = (await queryRunner.query('SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked', [name])) as Array<{
      locked: boolean;
    }>;
    return row.locked;
  };
  if (await tryLock()) return;
  logger.log('Another instance is running the migrations; waiting for it');
  while (!(await tryLock())) await sleep(LOCK_POLL_MS);
}

/**
 * One lock per migrations table (advisory locks are already per database), so apps keeping
 * separate histories in one database do not wait on each other.
 */
function lockName(dataSource: DataSource): string {
  const { schema } = dataSource.driver.options as { schema?: string };
  return `typeorm-migrations:${schema ?? 'public'}.${dataSource.options.migrationsTableName ?? 'migrations'}`;
}
