import { CACHE_MANAGER } from '@nestjs/cache-manager';
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
import { Cache } from 'cache-manager';
import { Subscription } from 'rxjs';
import { DataSource } from 'typeorm';
import { AuditRecorder } from './application/audit/audit-recorder';
import { InterruptedOperations } from './application/audit/interrupted-operations';
import { ReconcilingSessionCache } from './application/shared/reconciling-session-cache';
import { AuditSaga, RecordAuditEntryHandler } from './application/audit/audit.saga';
import { SessionAuthenticator } from './application/authentication/session-authenticator';
import { CurrentPasswordGuesses } from './application/change-password/current-password-guesses';
import { ChangePasswordHandler } from './application/change-password/change-password.handler';
import { LoginGatekeeper } from './application/login-user/login-gatekeeper';
import { LoginUserHandler } from './application/login-user/login-user.handler';
import { LogoutUserHandler } from './application/logout-user/logout-user.handler';
import { ACCESS_TOKENS } from './application/ports/access-token.port';
import { AUDIT_LOG } from './application/ports/audit-log.port';
import { INSTANCE_REGISTRY } from './application/ports/instance-registry.port';
import { Clock, CLOCK, systemClock } from './application/ports/clock.port';
import { DEFAULT_LOGIN_LOCKOUT, LOGIN_ATTEMPTS } from './application/ports/login-attempts.port';
import { PASSWORD_HASHER } from './application/ports/password-hasher.port';
import { SESSION_CACHE, SessionCache } from './application/ports/session-cache.port';
import { SESSION_STORE, SessionStore } from './application/ports/session-store.port';
import { AdminBootstrapper } from './application/bootstrap-admin/admin-bootstrapper';
import { BootstrapAdminHandler } from './application/bootstrap-admin/bootstrap-admin.handler';
import { ChangeUserRoleHandler } from './application/change-user-role/change-user-role.handler';
import { DisableUserHandler } from './application/disable-user/disable-user.handler';
import { EnableUserHandler } from './application/enable-user/enable-user.handler';
import { RequirePasswordResetHandler } from './application/require-password-reset/require-password-reset.handler';
import { ResetPasswordHandler } from './application/reset-password/reset-password.handler';
import { SessionDirectory } from './application/queries/session-directory';
import { RefreshTokensHandler } from './application/refresh-tokens/refresh-tokens.handler';
import { RegisterUserHandler } from './application/register-user/register-user.handler';
import { RevokeAllUserSessionsHandler } from './application/revoke-all-user-sessions/revoke-all-user-sessions.handler';
import { RevokeSessionHandler } from './application/revoke-session/revoke-session.handler';
import { AuditTrail } from './application/shared/audit-trail';
import { RevokedSessionsCache } from './application/shared/revoked-sessions-cache';
import { SessionIssuer } from './application/shared/session-issuer';
import { createLoginAttempts } from './infrastructure/cache/rate-limit.factory';
import { createSessionCache } from './infrastructure/cache/session-cache.factory';
import { Argon2PasswordHasher } from './infrastructure/security/argon2-password-hasher';
import { JwtAccessTokens } from './infrastructure/security/jwt-access-tokens';
import { TypeOrmAuditLog } from './infrastructure/typeorm/typeorm-audit-log';
import { TypeOrmInstanceRegistry } from './infrastructure/typeorm/typeorm-instance-registry';
import { TypeOrmSessionStore } from './infrastructure/typeorm/typeorm-session-store';
import { SESSIONS_OPTIONS, SessionsModuleOptions } from './sessions.options';

export interface SessionsModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  readonly inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
  readonly useFactory: (...args: never[]) => SessionsModuleOptions | Promise<SessionsModuleOptions>;
  /** Name of the TypeORM connection to use; the default one when absent. */
  readonly dataSourceName?: string;
}

export const COMMAND_HANDLERS = [
  LogoutUserHandler,
  RevokeAllUserSessionsHandler,
  RevokeSessionHandler,
  RegisterUserHandler,
  LoginUserHandler,
  RefreshTokensHandler,
  ChangePasswordHandler,
  BootstrapAdminHandler,
  ChangeUserRoleHandler,
  DisableUserHandler,
  EnableUserHandler,
  RequirePasswordResetHandler,
  ResetPasswordHandler,
  RecordAuditEntryHandler,
];

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
 * `CqrsModule.forRoot()`, a TypeORM connection (with this library's entities and migrations,
 * see SESSIONS_ENTITIES and SESSIONS_MIGRATIONS) and a `CacheModule`; the library reads no
 * environment variables itself.
 */
@Module({})
export class SessionsModule {
  static forRootAsync(options: SessionsModuleAsyncOptions): DynamicModule {
    const dataSource = getDataSourceToken(options.dataSourceName);
    const providers: Provider[] = [
      { provide: SESSIONS_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory },
      { provide: CLOCK, useValue: systemClock },
      { provide: SESSION_STORE, inject: [dataSource], useFactory: (ds: DataSource) => new TypeOrmSessionStore(ds) },
      { provide: AUDIT_LOG, inject: [dataSource], useFactory: (ds: DataSource) => new TypeOrmAuditLog(ds) },
      { provide: INSTANCE_REGISTRY, inject: [dataSource], useFactory: (ds: DataSource) => new TypeOrmInstanceRegistry(ds) },
      {
        provide: SESSION_CACHE,
        inject: [CACHE_MANAGER, SESSIONS_OPTIONS, SESSION_STORE, CLOCK],
        useFactory: (cache: Cache, o: SessionsModuleOptions, store: SessionStore, clock: Clock) =>
          new ReconcilingSessionCache(createSessionCache(cache, { keyPrefix: o.cacheKeyPrefix, timeoutMs: o.cacheTimeoutMs }), store, clock, {
            lifetimes: o.lifetimes,
            heartbeatMs: o.cacheHeartbeatMs,
            listen: o.cacheMarkerNotifications,
          }),
      },
      SessionCacheHeartbeat,
      InterruptedOperations,
      { provide: PASSWORD_HASHER, inject: [SESSIONS_OPTIONS], useFactory: (o: SessionsModuleOptions) => new Argon2PasswordHasher(o.passwordHashing) },
      {
        provide: ACCESS_TOKENS,
        inject: [SESSIONS_OPTIONS, CLOCK],
        useFactory: (o: SessionsModuleOptions, clock: Clock) => new JwtAccessTokens(o.accessTokenSecret, o.lifetimes.accessTokenTtlSeconds, clock),
      },
      AuditTrail,
      AuditRecorder,
      AuditSaga,
      RevokedSessionsCache,
      SessionIssuer,
      LoginGatekeeper,
      CurrentPasswordGuesses,
      SessionAuthenticator,
      SessionDirectory,
      AdminBootstrapper,
      UnhandledExceptionLogger,
      ...COMMAND_HANDLERS,
      {
        provide: LOGIN_ATTEMPTS,
        inject: [CACHE_MANAGER, SESSIONS_OPTIONS, CLOCK],
        useFactory: (cache: Cache, o: SessionsModuleOptions, clock: Clock) =>
          createLoginAttempts(cache, { keyPrefix: o.cacheKeyPrefix, timeoutMs: o.cacheTimeoutMs, policy: o.loginLockout ?? DEFAULT_LOGIN_LOCKOUT, clock }),
      },
    ];
    return {
      module: SessionsModule,
      imports: options.imports ?? [],
      providers,
      exports: [SESSIONS_OPTIONS, SESSION_STORE, SESSION_CACHE, AUDIT_LOG, CLOCK, SessionAuthenticator, SessionDirectory, AdminBootstrapper, AuditRecorder, LOGIN_ATTEMPTS],
    };
  }
}
