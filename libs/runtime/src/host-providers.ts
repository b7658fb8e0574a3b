import { Provider } from '@nestjs/common';
import { SessionsHealthIndicator } from '@app/sessions/health';
import { benchmarkAuthCheckProviders } from './benchmark/auth-check-modes';
import { Runtime } from './runtime';

/**
 * What each app module lists in its own `providers`: the health indicator its HealthController
 * reads, and, in a benchmark run, the auth check the benchmark asked for. They must sit in the
 * app module itself: guards are instantiated there and resolve their dependencies there first.
 */
export function hostProviders(runtime: Runtime): Provider[] {
  return [SessionsHealthIndicator, ...benchmarkAuthCheckProviders(runtime.settings)];
}
