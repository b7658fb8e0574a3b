// First: tracing, when configured, must hook node:http, pg and Redis before they load.
import '../../../libs/runtime/src/telemetry/preload';
import { exitOnStartupFailure, loadRuntimeSettings, serve, startRuntime } from '@app/runtime';
import { createAdminConsole } from './admin-console';

/** The admin console alone (one app per process in production). */
async function main(): Promise<void> {
  const { settings, ports } = loadRuntimeSettings(process.env);
  const runtime = await startRuntime(settings);
  await serve(runtime, [{ name: 'Admin console', app: await createAdminConsole(runtime), port: ports.admin }]);
}

main().catch(exitOnStartupFailure);
