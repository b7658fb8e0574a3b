import { existsSync } from 'node:fs';
import { loadEnvironment, type NodeEnv } from './config/environment';
import { createAppLogger } from './logging/app-logger';
import { RuntimeSettings } from './runtime-settings';

export interface LoadedSettings {
  readonly settings: RuntimeSettings;
  readonly ports: { readonly web: number; readonly admin: number };
}

export interface LoadSettingsOptions {
  /**
   * The NODE_ENV to assume when neither the environment nor `.env` sets one. `npm start` asks for
   * development; anything else fails closed (unset counts as production).
   */
  readonly nodeEnvWhenUnset?: Extract<NodeEnv, 'development'>;
}

/**
 * Reads and validates the environment once (a `.env` file in the working directory is read
 * first, without overriding variables already set) and turns it into typed settings.
 * Throws a ConfigurationError naming every bad variable.
 */
export function loadRuntimeSettings(env: NodeJS.ProcessEnv, options: LoadSettingsOptions = {}): LoadedSettings {
  if (env === process.env && existsSync('.env')) process.loadEnvFile('.env');
  const unset = env.NODE_ENV === undefined || env.NODE_ENV.trim() === '';
  const environment = loadEnvironment(unset && options.nodeEnvWhenUnset ? { ...env, NODE_ENV: options.nodeEnvWhenUnset } : env);
  // The process's one logger: start-up, both apps, their requests and the shutdown (JSON lines in production).
  const logger = createAppLogger({ nodeEnv: environment.nodeEnv, level: environment.logLevel });
  if (environment.generatedAccessTokenSecret) {
    logger.warn(
      `ACCESS_TOKEN_SECRET is not set: access tokens are signed with a random secret made for this process (NODE_ENV=${environment.nodeEnv}); they stop working when it exits and no other process accepts them.`,
      'Configuration',
    );
  }
  return {
    ports: { web: environment.http.port, admin: environment.http.adminPort },
    settings: {
      database: {
        url: environment.database.url,
        poolSize: environment.database.poolSize,
        statementTimeoutMs: environment.database.statementTimeoutMs,
        embeddedDataDir: environment.database.embeddedDataDir,
      },
      cache: { redisUrl: environment.cache.redisUrl, redisClusterNodes: environment.cache.redisClusterNodes, store: environment.cache.store },
      sessions: {
        lifetimes: {
          accessTokenTtlSeconds: environment.accessToken.ttlSeconds,
          sessionTtlSeconds: environment.sessionTtlSeconds,
          consoleSessionTtlSeconds: environment.adminConsole.sessionTtlSeconds,
        },
        accessTokenSecret: environment.accessToken.secret,
        // EdDSA or ES256: the library signs with these and then never uses the secret for tokens.
        ...(environment.accessToken.keys ? { accessTokenKeys: environment.accessToken.keys } : {}),
        passwordHashing: environment.passwordHashing,
        cacheKeyPrefix: environment.cache.keyPrefix,
        cacheTimeoutMs: environment.cache.timeoutMs,
        refreshReuseGraceSeconds: environment.refreshReuseGraceSeconds,
        interruptedAfterSeconds: environment.interruptedAfterSeconds,
        sessionPurge: environment.sessionPurge,
        sessionLimit: environment.sessionLimit,
        auditSealIntervalSeconds: environment.auditSealIntervalSeconds,
        auditRetention: environment.auditRetention,
      },
      benchmarkAuthCheck: environment.authCheck,
      http: {
        host: environment.http.host,
        bodyLimit: environment.http.bodyLimit,
        trustProxy: environment.http.trustProxy,
        headersTimeoutMs: environment.http.headersTimeoutMs,
        requestTimeoutMs: environment.http.requestTimeoutMs,
        corsOrigins: environment.http.corsOrigins,
        hstsMaxAgeSeconds: environment.http.hstsMaxAgeSeconds,
        apiDocs: environment.http.apiDocs,
        consoleAssetsDir: environment.http.consoleAssetsDir,
      },
      admin: environment.admin,
      serviceClients: environment.serviceClients,
      adminConsole: { reauthWindowSeconds: environment.adminConsole.reauthWindowSeconds },
      rateLimit: environment.rateLimit,
      logger,
      migrationsAtStartup: environment.migrationsAtStartup,
      shutdown: environment.shutdown,
      metrics: environment.metrics,
    },
  };
}
