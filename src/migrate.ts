import { existsSync } from 'node:fs';
import { runSessionsMigrations } from '@app/sessions';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * `npm run migrate`: brings the sessions schema of DATABASE_URL up to date and exits, the deploy
 * step that runs before new instances start (those find nothing pending; the migration lock makes
 * it safe to run while instances start anyway). Reads `.env` like the apps. Exit code 0 when the
 * schema is current, 1 when a migration failed (nothing of it committed), 2 without DATABASE_URL.
 */
async function migrate(): Promise<number> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  // The runner's own lines (what it ran, a wait for another instance's lock), as JSON lines like production's.
  Logger.overrideLogger(new ConsoleLogger('Migrate', { json: true }));
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('DATABASE_URL is not set: nothing to migrate (the embedded database migrates itself at start-up)\n');
    return 2;
  }
  // One connection is all the runner needs: it works inside one transaction.
  const dataSource = await new DataSource({ type: 'postgres', url, extra: { max: 1, connectionTimeoutMillis: 10_000 } }).initialize();
  try {
    const { executed, adopted } = await runSessionsMigrations(dataSource);
    process.stdout.write(`${JSON.stringify({ msg: 'sessions_migrations_done', executed, adopted })}\n`);
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

migrate().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${JSON.stringify({ msg: 'sessions_migrations_failed', error: (error as Error).message })}\n`);
    process.exit(1);
  },
);
