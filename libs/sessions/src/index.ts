// The public face of the sessions library: what other modules may import.
export { SessionsModule, type SessionsModuleAsyncOptions } from './sessions.module';
export { type SessionsModuleOptions, type PasswordHashingOptions, DEFAULT_PASSWORD_HASHING, SESSIONS_OPTIONS } from './sessions.options';

// Commands and their results
export { LogoutUser, type LogoutOutcome, type LogoutRejection } from './application/logout-user/logout-user.command';
export { RevokeAllUserSessions, type RevokeAllOutcome } from './application/revoke-all-user-sessions/revoke-all-user-sessions.command';
export { RevokeSession, type RevokeSessionOutcome } from './application/revoke-session/revoke-session.command';
export { RegisterUser, type RegisterOutcome } from './application/register-user/register-user.command';
export { LoginUser, type LoginOutcome } from './application/login-user/login-user.command';
export { RefreshTokens, type RefreshOutcome, type RefreshRejection } from './application/refresh-tokens/refresh-tokens.command';
export { ChangePassword, type ChangePasswordOutcome } from './application/change-password/change-password.command';
export { BootstrapAdmin, type BootstrapAdminOutcome } from './application/bootstrap-admin/bootstrap-admin.command';
export { ChangeUserRole, type ChangeUserRoleOutcome } from './application/change-user-role/change-user-role.command';
export { DisableUser, type DisableUserOutcome } from './application/disable-user/disable-user.command';
export { EnableUser, type EnableUserOutcome } from './application/enable-user/enable-user.command';
export { RequirePasswordReset, type RequirePasswordResetOutcome } from './application/require-password-reset/require-password-reset.command';
export { ResetPassword, type ResetPasswordOutcome } from './application/reset-password/reset-password.command';
export { type TokenPair } from './application/tokens/token-pair';

// Events, for sagas of other modules
export { AuditableEvent, type SessionEventFields, type EventTriad } from './application/audit/auditable-event';
export * from './application/logout-user/logout-user.events';
export * from './application/revoke-all-user-sessions/revoke-all-user-sessions.events';
export * from './application/revoke-session/revoke-session.events';
export * from './application/register-user/register-user.events';
export * from './application/login-user/login-user.events';
export * from './application/refresh-tokens/refresh-tokens.events';
export * from './application/change-password/change-password.events';
export * from './application/bootstrap-admin/bootstrap-admin.events';
export * from './application/change-user-role/change-user-role.events';
export * from './application/disable-user/disable-user.events';
export * from './application/enable-user/enable-user.events';
export * from './application/require-password-reset/require-password-reset.events';
export * from './application/reset-password/reset-password.events';

// Services and ports
export { SessionAuthenticator, type AuthenticatedSession } from './application/authentication/session-authenticator';
export { SessionDirectory } from './application/queries/session-directory';
export { AdminBootstrapper, AdminBootstrapConflict, AdminPasswordRefused, type AdminBootstrapResult } from './application/bootstrap-admin/admin-bootstrapper';
export { AuditRecorder } from './application/audit/audit-recorder';
export { type AuditEntry, type AuditLog, type AuditPage, type AuditQuery, AUDIT_LOG } from './application/ports/audit-log.port';
export { type SessionCache, type CachedSessionState, SESSION_CACHE } from './application/ports/session-cache.port';
export { type Clock, CLOCK } from './application/ports/clock.port';
export { type LoginAttempts, type LoginLockoutPolicy, type FailedLogin, LOGIN_ATTEMPTS, DEFAULT_LOGIN_LOCKOUT } from './application/ports/login-attempts.port';

// Domain vocabulary
export { type Actor, type ActorType, Actors } from './domain/actor';
export { type AuditAction, AuditActions, AUDIT_ACTIONS, type AuditOutcome, AUDIT_OUTCOMES } from './domain/audit-action';
export { type RequestContext, requestContext, NO_REQUEST_CONTEXT } from './domain/request-context';
export { RevocationReasons, ADMIN_REASON_MIN_LENGTH, ADMIN_REASON_MAX_LENGTH } from './domain/revocation-reason';
export { type SessionLifetimes, DEFAULT_LIFETIMES, normalizeEmail, emailProblem } from './domain/session-rules';
export { passwordProblem, normalizePassword, type PasswordContext, PASSWORD_MIN_CODE_POINTS } from './domain/password-policy';
export { clientNetwork } from './domain/client-network';
export { type SessionRecord, type UserRecord, type UserRole, USER_ROLES } from './domain/records';
export { REFRESH_TOKEN_PATTERN } from './domain/refresh-token';
export { PASSWORD_RESET_TOKEN_PATTERN } from './domain/password-reset-token';
export { PASSWORD_RESET_TOKEN_TTL_SECONDS } from './domain/session-rules';

// Infrastructure the app wires
export {
  runSessionsMigrations,
  sessionsMigrationStatus,
  assertSessionsMigrated,
  type SessionsMigrationOptions,
  type SessionsMigrationRun,
  type SessionsMigrationStatus,
} from './infrastructure/typeorm/sessions-migrations';
export { DEFAULT_SESSIONS_SCHEMA } from './infrastructure/typeorm/schema-name';
export { createRedisCacheStores, type RedisCacheStoreKind, type RedisCacheStores } from './infrastructure/cache/redis-cache-stores';
export { redisClientOf } from './infrastructure/cache/cache-store-redis';
export { keyvOfRedisYetStore } from './infrastructure/cache/redis-yet-keyv-adapter';
export { createThrottlerStorage } from './infrastructure/cache/rate-limit.factory';

// HTTP building blocks shared by the apps
export { AccessTokenGuard, OptionalAccessTokenGuard, bearerToken } from './http/access-token.guard';
export { AdminGuard } from './http/admin.guard';
export { RateLimitGuard, RateLimited, RateLimitedPerUser, RateLimitThrottlers, REVOCATION_LIMIT_FACTOR, type AccountKeySource } from './http/rate-limit.guard';
export { CurrentSession, ClientContext, type AuthenticatedRequest } from './http/authenticated-request';
export { HealthController } from './http/health.controller';

// Recovery: closing interrupted operations, repairing the cache after an outage
export { InterruptedOperations, INTERRUPTED_REASON } from './application/audit/interrupted-operations';
export { ReconcilingSessionCache } from './application/session-cache/reconciling-session-cache';
export { PROCESS_INSTANCE_ID } from './application/audit/process-instance';
