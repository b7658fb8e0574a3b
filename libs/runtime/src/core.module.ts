import { SessionsModule, type SessionsModuleOptions } from '@app/sessions';
import { CacheModule } from '@nestjs/cache-manager';
import { DynamicModule, Global, Inject, Module, OnApplicationShutdown, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { TerminusModule } from '@nestjs/terminus';
import { getDataSourceToken } from '@nestjs/typeorm';
import { createRedisCacheStores } from './cache/redis-cache-stores';
import { cacheKeyPrefixOf, loginLockoutOf, rateLimitModule } from './rate-limit/rate-limit.module';
import { ProcessLifecycle } from './lifecycle';
import { Runtime } from './runtime';
import { RoutedRequestGuard } from './http/routed-request';
import { isTracingActive } from './telemetry/tracing';
import { APP_METRICS, type AppMetrics, HttpDurationMetrics, OutboxDepthSource, SessionEventMetrics } from './metrics/app-metrics';
import type { AppName } from './metrics/labels';

const RUNTIME = Symbol('Runtime');
const CACHE_CONNECTION = Symbol('CacheConnection');

interface CacheConnection {
  readonly stores: unknown[] | undefined;
  close(): Promise<void>;
}

/** Closes the app's own Redis connection (cache-manager-redis-yet's is never closed otherwise). */
class CacheConnectionCloser implements OnApplicationShutdown {
  constructor(@Inject(CACHE_CONNECTION) private readonly connection: CacheConnection) {}

  async onApplicationShutdown(): Promise<void> {
    await this.connection.close();
  }
}

@Module({})
class CacheConnectionModule {}

/** Command and route attributes on the request spans; none of it is loaded while tracing is off. */
function tracingProviders(): Provider[] {
  if (!isTracingActive()) return [];
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded synchronously and only when tracing is on
  const { CommandSpanAttributes, RouteSpanGuard, TracingDiagnostics } = require('./telemetry/nest-tracing') as typeof import('./telemetry/nest-tracing');
  return [CommandSpanAttributes, TracingDiagnostics, { provide: APP_GUARD, useClass: RouteSpanGuard }];
}

/**
 * The wiring both apps share: CQRS buses, the runtime's database, a cache connection of the
 * app's own, the sessions library (global), rate limits and health checks.
 */
@Global()
@Module({})
export class CoreModule {
  /** `app` labels this app's metrics (one process may run both). */
  static forRoot(runtime: Runtime, { app }: { readonly app: AppName }): DynamicModule {
    const appMetrics: AppMetrics = { app, metrics: runtime.metrics };
    const cacheConnection = {
      provide: CACHE_CONNECTION,
      useFactory: async (): Promise<CacheConnection> => {
        const { redisUrl, redisClusterNodes, store } = runtime.settings.cache;
        const target = redisClusterNodes ? { clusterNodes: redisClusterNodes } : redisUrl;
        if (!target) return { stores: undefined, close: async () => undefined };
        return createRedisCacheStores(store, target, { namespace: `${cacheKeyPrefixOf(runtime.settings)}cache` });
      },
    };
    // One module object, imported twice: Nest instantiates it once, so the app opens one connection.
    const connectionModule: DynamicModule = {
      module: CacheConnectionModule,
      providers: [cacheConnection, CacheConnectionCloser],
      exports: [CACHE_CONNECTION],
    };
    return {
      module: CoreModule,
      imports: [
        CqrsModule.forRoot(),
        TerminusModule,
        connectionModule,
        CacheModule.registerAsync({
          isGlobal: true,
          imports: [connectionModule],
          inject: [CACHE_CONNECTION],
          useFactory: (connection: CacheConnection) => (connection.stores ? { stores: connection.stores as never } : {}),
        }),
        SessionsModule.forRootAsync({
          // Global: the apps' feature modules use its guards and SessionDirectory without importing it.
          isGlobal: true,
          useFactory: (): SessionsModuleOptions => ({
            // The embedded database's sockets share one session: no connection of its own to LISTEN on.
            cacheMarkerNotifications: !runtime.embeddedDatabase,
            // Without REDIS_URL (or a cluster) the cache lives in this process: the configuration allows that
            // only outside production or with IN_PROCESS_CACHE_SINGLE_INSTANCE=true, i.e. one instance.
            singleInstance: runtime.settings.cache.redisUrl === undefined && runtime.settings.cache.redisClusterNodes === undefined,
            // startRuntime has already migrated, under the lock, before either app started: each app only checks.
            migrations: 'verify',
            ...runtime.settings.sessions,
            loginLockout: loginLockoutOf(runtime.settings),
            observer: runtime.metrics.observerFor(app),
          }),
        }),
        rateLimitModule(runtime.settings),
      ],
      providers: [
        // First of the global guards (they run before any route's): every request line and duration gets its route.
        { provide: APP_GUARD, useClass: RoutedRequestGuard },
        { provide: RUNTIME, useValue: runtime },
        { provide: getDataSourceToken(), useValue: runtime.dataSource },
        ...tracingProviders(),
        { provide: APP_METRICS, useValue: appMetrics },
        HttpDurationMetrics,
        SessionEventMetrics,
        OutboxDepthSource,
        // The process's, shared by its apps: their readiness probes flip together when shutdown begins.
        { provide: ProcessLifecycle, useValue: runtime.lifecycle },
      ],
      exports: [getDataSourceToken(), RUNTIME, TerminusModule, ProcessLifecycle, APP_METRICS],
    };
  }
}
