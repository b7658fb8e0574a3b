import {
  ConfigurableModuleBuilder,
  type ConfigurableModuleOptionsFactory,
  Inject,
  InjectionToken,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleDestroy,
  OnModuleInit,
  Provider,
} from '@nestjs/common';
import { UnhandledExceptionBus } from '@nestjs/cqrs';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Subscription } from 'rxjs';
import { APPLICATION_PROVIDERS, MAINTENANCE_PROVIDERS } from './application/application.providers';
import { SessionAuthenticator } from './application/authentication/session-authenticator';
import { CLOCK, systemClock } from './application/ports/clock.port';
import { SESSION_CACHE, SessionCache } from './application/ports/session-cache.port';
import { REVOCATION_FEED } from './application/ports/revocation-feed.port';
import { SessionDirectory } from './application/queries/session-directory';
import { ReconcilingSessionCache } from './application/session-cache/reconciling-session-cache';
import { SessionsHealthProbe } from './health/sessions-health.probe';
import { CACHE_PROVIDERS } from './infrastructure/cache/cache.providers';
import { SHARED_CACHE_CHECK } from './infrastructure/cache/shared-cache.check';
import { AccessTokenKeys } from './infrastructure/security/access-token-keys';
import { SECURITY_PROVIDERS } from './infrastructure/security/security.providers';
import { typeOrmProviders } from './infrastructure/typeorm/typeorm.providers';
import { resolveSessionsOptions, ResolvedSessionsOptions, SESSIONS_OPTIONS, SessionsModuleOptions } from './sessions.options';
import { safeObserver, SESSIONS_OBSERVER } from './application/observer/sessions-observer';

/** Options that shape the module itself: given to forRoot, or to forRootAsync next to useFactory. */
export interface SessionsModuleExtras {
  /** Registers the module globally, so every feature module can use its guards and SessionDirectory. Default false. */
  readonly isGlobal?: boolean;
  /** Name of the TypeORM DataSource to use (as given to getDataSourceToken); the default one when absent. */
  readonly dataSourceName?: string;
}

/** What the host passed, before defaults and checks; only SESSIONS_OPTIONS reads it. */
const SESSIONS_MODULE_INPUT = Symbol('SessionsModuleInput');

/** The method a `useClass` / `useExisting` options factory implements. */
const FACTORY_METHOD = 'createSessionsOptions';

/** What a host's own modules may inject: the read side (the JWKS included) and the pieces the guards need, no write port. */
const MODULE_EXPORTS = [SessionAuthenticator, SessionDirectory, AccessTokenKeys, SessionsHealthProbe, REVOCATION_FEED];

/** Probes the session cache every second so an outage is noticed, and repaired, even when idle. */
class SessionCacheHeartbeat implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(SESSION_CACHE) private readonly cache: SessionCache) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.cache instanceof ReconcilingSessionCache) await this.cache.start();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.cache instanceof ReconcilingSessionCache) await this.cache.stop();
  }
}

/** Logs what the CQRS buses could not deliver: a lost saga command would otherwise vanish. */
class UnhandledExceptionLogger implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('CqrsUnhandledException');
  private subscription?: Subscription;

  constructor(@Inject(UnhandledExceptionBus) private readonly bus: UnhandledExceptionBus) {}

  onModuleInit(): void {
    this.subscription = this.bus.subscribe(({ cause, exception }) => {
      this.logger.error({ msg: 'cqrs_unhandled_exception', cause: cause?.constructor?.name, error: (exception as Error)?.message });
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}

function sessionsProviders(dataSource: InjectionToken): Provider[] {
  return [
    // Every provider below reads the resolved options, so a bad option stops start-up before anything runs.
    { provide: SESSIONS_OPTIONS, inject: [SESSIONS_MODULE_INPUT], useFactory: resolveSessionsOptions },
    SHARED_CACHE_CHECK,
    { provide: CLOCK, useValue: systemClock },
    { provide: SESSIONS_OBSERVER, inject: [SESSIONS_OPTIONS], useFactory: (o: ResolvedSessionsOptions) => safeObserver(o.observer) },
    ...typeOrmProviders(dataSource),
    ...CACHE_PROVIDERS,
    SessionCacheHeartbeat,
    ...SECURITY_PROVIDERS,
    UnhandledExceptionLogger,
    ...APPLICATION_PROVIDERS,
    ...MAINTENANCE_PROVIDERS,
    SessionsHealthProbe,
  ];
}

const SESSIONS_MODULE_DEFINITION = new ConfigurableModuleBuilder<SessionsModuleOptions>({
  optionsInjectionToken: SESSIONS_MODULE_INPUT,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName(FACTORY_METHOD)
  .setExtras<SessionsModuleExtras>({ isGlobal: false, dataSourceName: undefined }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    providers: [...(definition.providers ?? []), ...sessionsProviders(getDataSourceToken(extras.dataSourceName))],
    exports: MODULE_EXPORTS,
  }))
  .build();
const { ConfigurableModuleClass } = SESSIONS_MODULE_DEFINITION;

/** `SessionsModule.forRoot(...)`: the options and the extras in one object. */
export type SessionsModuleForRootOptions = typeof SESSIONS_MODULE_DEFINITION.OPTIONS_TYPE;
/** `SessionsModule.forRootAsync(...)`: `imports`, `inject`, one of useFactory / useClass / useExisting, and the extras. */
export type SessionsModuleAsyncOptions = typeof SESSIONS_MODULE_DEFINITION.ASYNC_OPTIONS_TYPE;
/** A class for `useClass` / `useExisting`: its `createSessionsOptions()` returns the options. */
export type SessionsOptionsFactory = ConfigurableModuleOptionsFactory<SessionsModuleOptions, typeof FACTORY_METHOD>;

/**
 * Sessions, revocation and their audit trail, as a dynamic module:
 * `SessionsModule.forRoot({ accessTokenSecret })` or `SessionsModule.forRootAsync({ imports, inject, useFactory })`.
 * The host provides a global `CqrsModule.forRoot()`, a TypeORM DataSource for PostgreSQL (no
 * entities to register: the library's tables are in a PostgreSQL schema of its own, migrated at
 * start-up or by runSessionsMigrations) and a `CacheModule` with a Redis store (or
 * `singleInstance: true`); the library reads no environment variables.
 */
@Module({})
export class SessionsModule extends ConfigurableModuleClass {}
