export {
  type RuntimeSettings,
  type RateLimitSettings,
  type ShutdownSettings,
  type MigrationsAtStartup,
  MIGRATIONS_AT_STARTUP_MODES,
  DEFAULT_RATE_LIMIT,
  DEFAULT_HTTP_TIMEOUTS,
  DEFAULT_SHUTDOWN,
  type AdminConsoleSettings,
  DEFAULT_ADMIN_CONSOLE,
} from './runtime-settings';
export { type Runtime, startRuntime } from './runtime';
export { ProcessLifecycle } from './lifecycle';
export { CoreModule } from './core.module';
export { createHttpApp, type HttpAppDescription } from './http-app';
export { serveApiDocs, buildApiDocument, operationsOf, BEARER_SCHEME, type ApiDocsDescription, type ApiTag, type ApiCookieScheme } from './http/api-docs';
export {
  Authenticated,
  OptionallyAuthenticated,
  AdminsOnly,
  UNAUTHENTICATED_DESCRIPTION,
  BEARER_CHALLENGE_HEADERS,
  SCOPE_CHALLENGE_HEADERS,
} from './http/access';
export { loginRefused, RefusesLogins, LOGIN_REFUSED_DESCRIPTION, SESSION_LIMIT_REACHED_TYPE, SESSION_LIMIT_REACHED_DESCRIPTION } from './http/login-refusal';
export { RevocationReceiptResponse, toReceiptResponse } from './http/revocation-receipt';
export type { WebPage } from './http/web-page';
export { seedAdministrator, ensureAdministrator, AdminBootstrapConflict, AdminPasswordRefused, type AdminBootstrapResult } from './admin-bootstrap';
export { HealthController } from './health.controller';
export { hostProviders } from './host-providers';
export {
  RateLimitGuard,
  RateLimited,
  RateLimitedPerUser,
  RateLimitThrottlers,
  REVOCATION_LIMIT_FACTOR,
  type AccountKeySource,
  accountTracker,
} from './rate-limit/rate-limit.guard';
export { createRedisCacheStores, CACHE_STORE_KINDS, type CacheStoreKind, type RedisCacheStores } from './cache/redis-cache-stores';
export { AUTH_CHECK_MODES, type AuthCheckMode } from './benchmark/auth-check-modes';
export { serve, exitOnStartupFailure, type Listener } from './serve';
export { loadRuntimeSettings } from './settings-from-environment';
export * from './config/environment';
export { createAppLogger, currentProcessLogger, type AppLogger, type AppLoggerOptions, REDACTED_KEYS } from './logging/app-logger';
export { LOG_LEVELS, type LogLevel } from './logging/log-level';
export { REQUEST_LINE_MESSAGE, requestLogLevel, loggedUrl } from './logging/request-logging';
