import { existsSync } from 'node:fs';
import { DEFAULT_SESSIONS_SCHEMA, revertLastSessionsMigration, runSessionsMigrations, SessionsMigrationRefused, sessionsMigrationStatus } from '@app/sessions';
import { createAppLogger, LOG_LEVELS, type LogLevel } from '@app/runtime';
import { Logger } from '@nestjs/common';
import { pino } from 'pino';
import { DataSource } from 'typeorm';

/**
 * The sessions schema of DATABASE_URL as a deploy step (docs/deploy.md). Reads `.env` like the
 * apps; writes one JSON line of result to stdout (errors to stderr), pino's lines as the apps'
 * production ones (level, time, msg), at LOG_LEVEL.
 *
 * - `npm run migrate` (or `migrate run`): runs the pending migrations and exits, before new
 *   instances start (those, with MIGRATIONS_AT_STARTUP=verify, refuse a schema that is behind).
 *   The migration lock makes it safe while instances start anyway.
 * - `npm run migrate:status` (`migrate status`): the migrations applied, with when, and those pending.
 * - `npm run migrate:revert` (`migrate revert`): undoes the last migration applied, one per call.
 *
 * Exit codes: 0 done (status: nothing pending); 1 failed (a migration failed and nothing of it was
 * committed, or the database could not be reached); 2 not started (no DATABASE_URL, an unknown
 * command, a revert refused); 3 status only: migrations are pending.
 */
const COMMANDS = ['run', 'status', 'revert'] as const;
type Command = (typeof COMMANDS)[number];

const EXIT = { done: 0, failed: 1, refused: 2, pending: 3 } as const;

const level: LogLevel = LOG_LEVELS.includes(process.env.LOG_LEVEL as LogLevel) ? (process.env.LOG_LEVEL as LogLevel) : 'info';
/** Results on stdout; refusals and failures on stderr, in the same shape. */
const stdout = createAppLogger({ nodeEnv: 'production', level });
const stderr = createAppLogger({ nodeEnv: 'production', level, destination: pino.destination({ dest: 2, sync: true }) });
const out = ({ msg, ...fields }: { msg: string } & Record<string, unknown>) => stdout.pino.info({ context: 'Migrate', ...fields }, msg);
const err = ({ msg, ...fields }: { msg: string } & Record<string, unknown>) => stderr.pino.error({ context: 'Migrate', ...fields }, msg);

async function migrate(argv: readonly string[]): Promise<number> {
  const [given = 'run', ...rest] = argv;
  if (!COMMANDS.includes(given as Command) || rest.length > 0) {
    err({ msg: 'sessions_migrations_usage', error: `unknown command "${argv.join(' ')}": use run (the default), status or revert` });
    return EXIT.refused;
  }
  const command = given as Command;
  if (existsSync('.env')) process.loadEnvFile('.env');
  // The runner's own lines (what it ran, a wait for another instance's lock), as JSON lines like production's.
  Logger.overrideLogger(stdout);
  const url = process.env.DATABASE_URL;
  if (!url) {
    err({ msg: 'sessions_migrations_no_database', error: 'DATABASE_URL is not set: nothing to migrate (the embedded database migrates itself at start-up)' });
    return EXIT.refused;
  }
  // One connection is all the runner needs: it works inside one transaction.
  const dataSource = await new DataSource({ type: 'postgres', url, extra: { max: 1, connectionTimeoutMillis: 10_000 } }).initialize();
  try {
    const schema = DEFAULT_SESSIONS_SCHEMA;
    if (command === 'run') {
      const { executed, adopted } = await runSessionsMigrations(dataSource);
      out({ msg: 'sessions_migrations_done', executed, adopted });
      return EXIT.done;
    }
    if (command === 'status') {
      const { applied, pending, inPublic } = await sessionsMigrationStatus(dataSource);
      const current = pending.length === 0 && inPublic.length === 0;
      out({
        msg: 'sessions_migrations_status',
        schema,
        current,
        applied: applied.map(({ name, runAt }) => ({ name, runAt: runAt.toISOString() })),
        pending,
        inPublic,
      });
      return current ? EXIT.done : EXIT.pending;
    }
    try {
      const reverted = await revertLastSessionsMigration(dataSource);
      out({ msg: 'sessions_migration_reverted', schema, reverted });
      return EXIT.done;
    } catch (error) {
      if (!(error instanceof SessionsMigrationRefused)) throw error;
      err({ msg: 'sessions_migration_revert_refused', schema, migration: error.migration, error: error.message });
      return EXIT.refused;
    }
  } finally {
    await dataSource.destroy();
  }
}

migrate(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    err({ msg: 'sessions_migrations_failed', error: (error as Error).message });
    process.exit(EXIT.failed);
  },
);
