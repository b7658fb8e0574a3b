// First: tracing, when configured, must hook node:http, pg and Redis before they load.
import '../libs/runtime/src/telemetry/preload';
import { loadRuntimeSettings, exitOnStartupFailure, serve, startRuntime } from '@app/runtime';
import { createAdminConsole } from '../apps/admin-console/src/admin-console';
import { createWebApi } from './web-api';

/**
 * `npm start`: both apps in one process, sharing one database pool (which the embedded
 * database needs). Each app can also run alone: src/main.ts, apps/admin-console/src/main.ts.
 *
 * `npm start` passes --development-when-node-env-unset, so that a fresh checkout without a
 * `.env` runs in development (embedded mode). It is applied after `.env` is read, so a NODE_ENV
 * there still counts. Started any other way, an unset NODE_ENV is production.
 */
const DEVELOPMENT_WHEN_UNSET = '--development-when-node-env-unset';

async function launch(): Promise<void> {
  const nodeEnvWhenUnset = process.argv.includes(DEVELOPMENT_WHEN_UNSET) ? 'development' : undefined;
  const { settings, ports } = loadRuntimeSettings(process.env, { nodeEnvWhenUnset });
  const runtime = await startRuntime(settings);
  await serve(runtime, [
    { name: 'Web API', app: await createWebApi(runtime, { seedAdmin: true }), port: ports.web },
    { name: 'Admin console', app: await createAdminConsole(runtime, { seedAdmin: false }), port: ports.admin },
  ]);
}

launch().catch(exitOnStartupFailure);
