/**
 * Imported first by every entry point (src/launch.ts, src/main.ts, apps/admin-console/src/main.ts),
 * before anything that loads node:http, pg or the Redis client, so that the instrumentations can
 * hook them. Does nothing unless the OTEL_* variables turn tracing on (docs/tracing.md).
 *
 * `.env` is read here the way loadRuntimeSettings reads it (never over variables already set), so
 * that OTEL_* variables written there count too. Invalid values leave tracing off here; the
 * environment check that follows then stops start-up, naming the variable.
 */
import { existsSync } from 'node:fs';
import { startTracingIfConfigured } from './tracing';

try {
  if (existsSync('.env')) process.loadEnvFile('.env');
} catch {
  // An unreadable .env is reported by loadRuntimeSettings, which reads it again, in its own words.
}
try {
  startTracingIfConfigured(process.env);
} catch (error) {
  // The operator asked for tracing: running without it would go unnoticed.
  // Loaded only now: the logger's modules must not load before the instrumentations hook theirs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded synchronously, after the instrumentations (see above)
  const { currentProcessLogger } = require('../logging/app-logger') as typeof import('../logging/app-logger');
  currentProcessLogger().pino.fatal(
    { context: 'Startup' },
    `Start-up failed: OpenTelemetry tracing could not start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
}
