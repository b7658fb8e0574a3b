export { type RuntimeSettings, type CacheStoreKind } from './runtime-settings';
export { type Runtime, startRuntime } from './runtime';
export { CoreModule } from './core.module';
export { configureHttpApp, seedAdministrator } from './http-app';
export { serve, exitOnStartupFailure, type Listener } from './serve';
export { loadRuntimeSettings } from './settings-from-environment';
