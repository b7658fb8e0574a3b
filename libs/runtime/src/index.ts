export { type RuntimeSettings, type CacheStoreKind, type RateLimitSettings, DEFAULT_RATE_LIMIT, DEFAULT_HTTP_TIMEOUTS } from './runtime-settings';
export { type Runtime, startRuntime } from './runtime';
export { CoreModule } from './core.module';
export { configureHttpApp, seedAdministrator } from './http-app';
export { serve, exitOnStartupFailure, type Listener } from './serve';
export { loadRuntimeSettings } from './settings-from-environment';
