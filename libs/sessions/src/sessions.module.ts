import {
  DynamicModule,
  Inject,
  Logger,
  Module,
  ModuleMetadata,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleDestroy,
  OnModuleInit,
  Provider,
} from '@nestjs/common';
import { UnhandledExceptionBus } from '@nestjs/cqrs';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Subscription } from 'rxjs';
import { ReconcilingSessionCache } from './application/session-cache/reconciling-session-cache';
import { AUDIT_LOG } from './application/ports/audit-log.port';
import { CLOCK, systemClock } from './application/ports/clock.port';
import { LOGIN_ATTEMPTS } from './application/ports/login-attempts.port';
import { SESSION_CACHE, SessionCache } from './application/ports/session-cache.port';
import { SESSION_RECORDS } from './application/ports/session-records.port';
import { UNIT_OF_WORK } from './application/ports/unit-of-work.port';
import { SECURITY_PROVIDERS } from './infrastructure/security/security.providers';
import { APPLICATION_PROVIDERS } from './application/application.providers';
import { AdminBootstrapper } from './application/bootstrap-admin/admin-bootstrapper';
import { AuditRecorder } from './application/audit/audit-recorder';
import { SessionAuthenticator } from './application/authentication/session-authenticator';
import { SessionDirectory } from './application/queries/session-directory';
import { CACHE_PROVIDERS } from './infrastructure/cache/cache.providers';
import { typeOrmProviders } from './infrastructure/typeorm/typeorm.providers';
import { SESSIONS_OPTIONS, SessionsModuleOptions } from './sessions.options';

export interface SessionsModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  readonly inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
  readonly useFactory: (...args: never[]) => SessionsModuleOptions | Promise<SessionsModuleOptions>;
  /** Name of the TypeORM connection to use; the default one when absent. */
  readonly dataSourceName?: string;
}


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

/**
 * Sessions, revocation and their audit trail. The importing app provides a global
 * `CqrsModule.forRoot()`, a TypeORM connection (no entities to register: the library's tables are
 * in a PostgreSQL schema of its own, migrated at start-up or by runSessionsMigrations) and a
 * `CacheModule`; the library reads no environment variables itself.
 */
@Module({})
export class SessionsModule {
  static forRootAsync(options: SessionsModuleAsyncOptions): DynamicModule {
    const dataSource = getDataSourceToken(options.dataSourceName);
    const providers: Provider[] = [
      { provide: SESSIONS_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory },
      { provide: CLOCK, useValue: systemClock },
      ...typeOrmProviders(dataSource),
      ...CACHE_PROVIDERS,
      SessionCacheHeartbeat,
      ...SECURITY_PROVIDERS,
      UnhandledExceptionLogger,
      ...APPLICATION_PROVIDERS,
    ];
    return {
      module: SessionsModule,
      imports: options.imports ?? [],
      providers,
      exports: [SESSIONS_OPTIONS, UNIT_OF_WORK, SESSION_RECORDS, SESSION_CACHE, AUDIT_LOG, CLOCK, SessionAuthenticator, SessionDirectory, AdminBootstrapper, AuditRecorder, LOGIN_ATTEMPTS],
    };
  }
}
