import { assertSessionsMigrated, runSessionsMigrations, SessionsConfigurationError } from '@app/sessions';
import { startEmbeddedPostgres } from '@app/platform';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ProcessLifecycle } from './lifecycle';
import { RuntimeSettings } from './runtime-settings';
import { type MetricsListener, startMetricsListener } from './metrics/metrics-listener';
import { RuntimeMetrics } from './metrics/runtime-metrics';

/**
 * What one process shares between the apps it runs: the database connection pool (an
 * embedded database accepts a single connection, so both apps must use one pool) and the
 * settings. Each app opens its own cache connection.
 */
export interface Runtime {
  readonly settings: RuntimeSettings;
  readonly dataSource: DataSource;
  readonly embeddedDatabase: boolean;
  /** Serving or shutting down: what the readiness probe of every app reports. */
  readonly lifecycle: ProcessLifecycle;
  /** The process's Prometheus series, both apps' (docs/metrics.md). */
  readonly metrics: RuntimeMetrics;
  /** The GET /metrics listener; absent when METRICS_ENABLED=false (or no metrics settings). */
  readonly metricsListener: MetricsListener | undefined;
  /**
   * Closes the database pool and the embedded database, then the metrics listener unless asked to
   * keep it (serve closes it itself, last of all).
   */
  close(options?: { readonly keepMetricsListener?: boolean }): Promise<void>;
}

export async function startRuntime(settings: RuntimeSettings): Promise<Runtime> {
  // The apps' own logger (JSON lines in production). Until an app exists, Nest's static Logger,
  // which migrations and the embedded database use, would print plain text: point it there now,
  // as NestFactory.create will.
  const logger = settings.logger;
  Logger.overrideLogger(logger);
  let url = settings.database.url;
  let poolSize = settings.database.poolSize;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!url) {
    const embedded = await startEmbeddedPostgres({ dataDir: settings.database.embeddedDataDir });
    url = embedded.url;
    stopEmbedded = () => embedded.close();
    // The embedded server serves one connection at a time.
    poolSize = 1;
    logger.warn(
      `EMBEDDED MODE: no DATABASE_URL, using an in-process PGlite database (${settings.database.embeddedDataDir ? `files in ${settings.database.embeddedDataDir}` : 'in memory, lost on exit'}). For development only.`,
      'Runtime',
    );
  }
  if (!settings.cache.redisUrl && !settings.cache.redisClusterNodes) {
    logger.warn('EMBEDDED MODE: no REDIS_URL nor REDIS_CLUSTER_NODES, the session cache lives in this process. Run a single instance only.', 'Runtime');
  }

  const statementTimeoutMs = settings.database.statementTimeoutMs;
  const connectTimeoutMs = statementTimeoutMs > 0 ? Math.min(5_000, statementTimeoutMs) : 5_000;
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    synchronize: false,
    connectTimeoutMS: connectTimeoutMs,
    extra: {
      max: poolSize,
      // Bounded waits: a request that needs the database fails fast with a 503 instead of hanging.
      connectionTimeoutMillis: connectTimeoutMs,
      ...(statementTimeoutMs > 0
        ? {
            statement_timeout: statementTimeoutMs,
            // The client gives up a little after the server would: a connection cut mid-query must not hang.
            query_timeout: statementTimeoutMs + 1_000,
            idle_in_transaction_session_timeout: statementTimeoutMs * 2,
          }
        : {}),
    },
  });
  try {
    await dataSource.initialize();
    // Before either app starts, so both find the schema current (each SessionsModule checks again).
    // An embedded database is new or this process's own: nothing else could have migrated it.
    if (stopEmbedded || (settings.migrationsAtStartup ?? 'run') === 'run') await runSessionsMigrations(dataSource);
    else await verifyMigrated(dataSource);
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await stopEmbedded?.();
    throw error;
  }

  const metrics = new RuntimeMetrics(dataSource);
  let metricsListener: MetricsListener | undefined;
  if (settings.metrics?.enabled) {
    try {
      metricsListener = await startMetricsListener(metrics, settings.metrics.host, settings.metrics.port);
    } catch (error) {
      await dataSource.destroy();
      await stopEmbedded?.();
      throw new Error(
        `METRICS_PORT: the metrics listener could not listen on ${settings.metrics.host}:${settings.metrics.port} (${(error as Error).message})`,
        { cause: error },
      );
    }
  }

  let closed = false;
  return {
    settings,
    dataSource,
    embeddedDatabase: stopEmbedded !== undefined,
    lifecycle: new ProcessLifecycle(),
    metrics,
    metricsListener,
    async close(options = {}) {
      if (!closed) {
        closed = true;
        if (dataSource.isInitialized) await dataSource.destroy();
        await stopEmbedded?.();
      }
      if (!options.keepMetricsListener) await metricsListener?.close();
    },
  };
}

/** MIGRATIONS_AT_STARTUP=verify: a schema behind the code stops start-up, naming what is pending and the setting that asked. */
async function verifyMigrated(dataSource: DataSource): Promise<void> {
  try {
    await assertSessionsMigrated(dataSource);
  } catch (error) {
    if (!(error instanceof SessionsConfigurationError)) throw error;
    throw new SessionsConfigurationError(`MIGRATIONS_AT_STARTUP=verify: ${error.message}`);
  }
}
