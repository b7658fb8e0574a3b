import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { SessionsConfigurationError, SessionsMigrationRefused } from '../../domain/sessions-error';
import { adoptPublicLayout, findPublicLayout } from './legacy-layout';
import { migrationTimestamp, SessionsMigration } from './migrations/sessions-migration';
import { SESSIONS_MIGRATIONS } from './schema';
import { quotedSchema, sessionsSchemaName } from './schema-name';

export interface SessionsMigrationOptions {
  /** The library's PostgreSQL schema. Default `sessions`. */
  readonly schema?: string;
  /**
   * Take the advisory lock, so instances starting together run the migrations one after the other.
   * Default true; off only to show, in a test, what the lock prevents.
   */
  readonly lock?: boolean;
}

export interface SessionsMigrationRun {
  /** The migrations this call ran, in order. */
  readonly executed: string[];
  /** The 0.1 migrations this call found in `public` and moved, with their tables, into the schema. */
  readonly adopted: string[];
}

export interface SessionsMigrationStatus {
  /** Migrations recorded as run in the schema's history, oldest first, with when. */
  readonly applied: ReadonlyArray<{ readonly name: string; readonly runAt: Date }>;
  /** Migrations not yet run in the schema, in order. */
  readonly pending: string[];
  /** 0.1 migrations recorded in `public.migrations` whose tables the next run moves into the schema. */
  readonly inPublic: string[];
}

/** How often a waiting instance asks for the lock again. */
const LOCK_POLL_MS = 200;

const logger = new Logger('SessionsMigrations');

/**
 * Runs the library's pending migrations in its own schema, on the host's DataSource, and returns
 * what it did. A host calls it before deploying (`npm run migrate`), or lets the module run it at
 * start-up.
 *
 * The runner is the library's own, not TypeORM's MigrationExecutor: that one reads its migrations
 * and its history table from the DataSource's options, which are the host's (its own migrations,
 * its `public.migrations`), and cannot be pointed at another list and table on the same
 * DataSource. This one keeps its history in `"<schema>".migrations` (TypeORM's columns, so a 0.1
 * history reads the same) and never touches the host's.
 *
 * Everything happens in one transaction on one connection, so a pool of one (the embedded
 * database) is enough: the transaction takes a transaction-level advisory lock (per schema), then
 * creates the schema and the history table if missing, adopts a 0.1 layout if it finds one, and
 * runs each pending migration with its history row. All of it commits together, or nothing does.
 * The lock ends with the transaction, also when the process dies, so it cannot leak into the pool;
 * an instance that waited then reads (READ COMMITTED, a fresh snapshot per statement) that nothing
 * is pending. Migrations use the connection they are given: another one would wait for this
 * transaction, and with a pool of one, for ever.
 */
export function runSessionsMigrations(dataSource: DataSource, options: SessionsMigrationOptions = {}): Promise<SessionsMigrationRun> {
  return runMigrationList(dataSource, SESSIONS_MIGRATIONS, options);
}

/** What runSessionsMigrations would do, read without the lock and without writing. */
export async function sessionsMigrationStatus(
  dataSource: DataSource,
  options: Pick<SessionsMigrationOptions, 'schema'> = {},
): Promise<SessionsMigrationStatus> {
  return statusOf(dataSource, SESSIONS_MIGRATIONS, sessionsSchemaName(options.schema));
}

/**
 * For hosts that run the migrations before deploying: refuses (a SessionsConfigurationError that
 * names them) when any is pending, so an instance never starts on a schema older than its code.
 */
export async function assertSessionsMigrated(dataSource: DataSource, options: Pick<SessionsMigrationOptions, 'schema'> = {}): Promise<void> {
  const schema = sessionsSchemaName(options.schema);
  const { pending, inPublic } = await statusOf(dataSource, SESSIONS_MIGRATIONS, schema);
  if (inPublic.length > 0) {
    throw new SessionsConfigurationError(
      `The sessions tables are still in schema public (release 0.1): run the sessions migrations to move them into "${schema}"`,
    );
  }
  if (pending.length > 0) {
    throw new SessionsConfigurationError(
      `Sessions migrations pending in schema "${schema}": ${pending.join(', ')}. Run them before starting (npm run migrate), or let the module run them`,
    );
  }
}

/**
 * Undoes the last migration run in the schema (for operators and tests); returns its name, or null
 * when none ran. Refuses (SessionsMigrationRefused) to undo the first, whose undo drops the schema's
 * tables, the audit trail with them: that is a DROP SCHEMA for an operator to type.
 */
export function revertLastSessionsMigration(dataSource: DataSource, options: SessionsMigrationOptions = {}): Promise<string | null> {
  return revertLast(dataSource, SESSIONS_MIGRATIONS, options);
}

/** runSessionsMigrations over any list: the seam tests use to run migrations slow or broken on purpose. */
export async function runMigrationList(
  dataSource: DataSource,
  migrations: readonly SessionsMigration[],
  options: SessionsMigrationOptions = {},
): Promise<SessionsMigrationRun> {
  const schema = sessionsSchemaName(options.schema);
  return inMigrationTransaction(dataSource, schema, options.lock ?? true, async (q) => {
    const adopted = await adoptPublicLayout(q, schema, migrations);
    const done = await migrationsRun(q, schema);
    const executed: string[] = [];
    const s = quotedSchema(schema);
    for (const migration of migrations) {
      if (done.has(migration.name)) continue;
      await migration.up(q, s);
      await q.query(`INSERT INTO ${s}.migrations (timestamp, name) VALUES ($1, $2)`, [migrationTimestamp(migration), migration.name]);
      executed.push(migration.name);
    }
    if (executed.length > 0) logger.log(`Ran ${executed.length} sessions migration(s) in schema "${schema}": ${executed.join(', ')}`);
    return { executed, adopted };
  });
}

export async function revertLast(
  dataSource: DataSource,
  migrations: readonly SessionsMigration[],
  options: SessionsMigrationOptions = {},
): Promise<string | null> {
  const schema = sessionsSchemaName(options.schema);
  return inMigrationTransaction(dataSource, schema, options.lock ?? true, async (q) => {
    const s = quotedSchema(schema);
    const [last] = (await q.query(`SELECT id, name FROM ${s}.migrations ORDER BY id DESC LIMIT 1`)) as Array<{ id: number; name: string }>;
    if (!last) return null;
    if (last.name === migrations[0]?.name) {
      throw new SessionsMigrationRefused(
        last.name,
        `${last.name} created schema "${schema}": reverting it would drop every sessions table, users and the audit trail included; drop the schema by hand if that is what you mean`,
      );
    }
    const migration = migrations.find((candidate) => candidate.name === last.name);
    if (!migration) throw new Error(`The last sessions migration, ${last.name}, is not one this version of the library knows`);
    await migration.down(q, s);
    await q.query(`DELETE FROM ${s}.migrations WHERE id = $1`, [last.id]);
    return last.name;
  });
}

export async function statusOf(dataSource: DataSource, migrations: readonly SessionsMigration[], schema: string): Promise<SessionsMigrationStatus> {
  const q = dataSource.createQueryRunner();
  try {
    const inPublic = await findPublicLayout(q, schema, migrations);
    const applied = (await historyExists(q, schema)) ? await migrationHistory(q, schema) : [];
    // What adoption will record counts as run: only the rest is pending.
    const done = new Set([...inPublic, ...applied.map((migration) => migration.name)]);
    return { applied, pending: migrations.map((m) => m.name).filter((name) => !done.has(name)), inPublic };
  } finally {
    await q.release();
  }
}

async function inMigrationTransaction<T>(dataSource: DataSource, schema: string, lock: boolean, work: (q: QueryRunner) => Promise<T>): Promise<T> {
  const q = dataSource.createQueryRunner();
  try {
    await q.connect();
    await q.startTransaction();
    try {
      await exemptFromSessionTimeouts(q);
      if (lock) await takeMigrationLock(q, `sessions-migrations:${schema}`);
      const s = quotedSchema(schema);
      await q.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await q.query(
        `CREATE TABLE IF NOT EXISTS ${s}.migrations (
           id serial PRIMARY KEY,
           timestamp bigint NOT NULL,
           name varchar NOT NULL UNIQUE,
           run_at timestamptz NOT NULL DEFAULT now())`,
      );
      const result = await work(q);
      await q.commitTransaction();
      return result;
    } catch (error) {
      // The original error matters; a failed rollback (connection gone) ends the transaction anyway.
      await q.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  } finally {
    await q.release();
  }
}

async function historyExists(q: QueryRunner, schema: string): Promise<boolean> {
  const [row] = (await q.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${quotedSchema(schema)}.migrations`])) as Array<{ present: boolean }>;
  return row.present;
}

async function migrationHistory(q: QueryRunner, schema: string): Promise<Array<{ name: string; runAt: Date }>> {
  const rows = (await q.query(`SELECT name, run_at FROM ${quotedSchema(schema)}.migrations ORDER BY id`)) as Array<{ name: string; run_at: Date }>;
  return rows.map((row) => ({ name: row.name, runAt: row.run_at }));
}

async function migrationsRun(q: QueryRunner, schema: string): Promise<Set<string>> {
  return new Set((await migrationHistory(q, schema)).map((migration) => migration.name));
}

/**
 * The host's statement_timeout and idle_in_transaction_session_timeout (set per connection) are
 * sized for requests: waiting for another instance's migrations, or a slow migration, must not
 * trip them. SET LOCAL ends with the transaction, leaving the pooled connection as it was.
 */
async function exemptFromSessionTimeouts(q: QueryRunner): Promise<void> {
  await q.query('SET LOCAL statement_timeout = 0');
  await q.query('SET LOCAL idle_in_transaction_session_timeout = 0');
}

/**
 * Polls pg_try_advisory_xact_lock rather than blocking in pg_advisory_xact_lock: a blocked
 * statement would still trip pg's client-side query_timeout, which SET LOCAL cannot lift. On the
 * embedded database every "connection" is one session, so the lock always succeeds there and
 * excludes nothing, which is harmless: one process owns that data.
 */
async function takeMigrationLock(q: QueryRunner, name: string): Promise<void> {
  const tryLock = async () => {
    const [row] = (await q.query('SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked', [name])) as Array<{ locked: boolean }>;
    return row.locked;
  };
  if (await tryLock()) return;
  logger.log('Another instance is running the sessions migrations; waiting for it');
  while (!(await tryLock())) await sleep(LOCK_POLL_MS);
}
