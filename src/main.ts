// First: tracing, when configured, must hook node:http, pg and Redis before they load.
import '../libs/runtime/src/telemetry/preload';
import { exitOnStartupFailure, loadRuntimeSettings, serve, startRuntime } from '@app/runtime';
import { createWebApi } from './web-api';

/** The web API alone (one app per process in production). */
async function main(): Promise<void> {
  const { settings, ports } = loadRuntimeSettings(process.env);
  const runtime = await startRuntime(settings);
  await serve(runtime, [{ name: 'Web API', app: await createWebApi(runtime), port: ports.web }]);
}

main().catch(exitOnStartupFailure);
