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

if (existsSync('.env')) process.loadEnvFile('.env');
startTracingIfConfigured(process.env);
