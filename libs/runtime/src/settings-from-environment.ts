import { loadEnvironment } from '@app/platform';
import { DEFAULT_LIFETIMES } from '@app/sessions';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { RuntimeSettings } from './runtime-settings';

export interface LoadedSettings {
  readonly settings: RuntimeSettings;
  readonly ports: { readonly web: number; readonly admin: number };
}

/**
 * Reads and validates the environment once (a `.env` file in the working directory is read
 * first, without overriding variables already set) and turns it into typed settings.
 * Throws a ConfigurationError naming every bad variable.
 */
export function loadRuntimeSettings(env: NodeJS.ProcessEnv): LoadedSettings {
  if (env === process.env && existsSync('.env')) process.loadEnvFile('.env');
  const environment = loadEnvironment(env);
  const logger = new ConsoleLogger({ json: environment.nodeEnv === 'production' });
  if (environment.usingDevelopmentSecret) {
    new Logger('Configuration').warn('ACCESS_TOKEN_SECRET is not set: using the public development secret. Never do this in production.');
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
      cache: { redisUrl: environment.cache.redisUrl, store: environment.cache.store },
      sessions: {
        lifetimes: {
          ...DEFAULT_LIFETIMES,
          accessTokenTtlSeconds: environment.accessToken.ttlSeconds,
          sessionTtlSeconds: environment.sessionTtlSeconds,
        },
        accessTokenSecret: environment.accessToken.secret,
        passwordHashing: environment.passwordHashing,
        cacheKeyPrefix: environment.cache.keyPrefix,
        cacheTimeoutMs: environment.cache.timeoutMs,
        refreshReuseGraceSeconds: environment.refreshReuseGraceSeconds,
        interruptedAfterSeconds: environment.interruptedAfterSeconds,
        authCheck: environment.authCheck,
      },
      http: { host: environment.http.host, bodyLimit: environment.http.bodyLimit, trustProxy: environment.http.trustProxy },
      admin: environment.admin,
      rateLimit: environment.rateLimit,
      logger,
    },
  };
}
