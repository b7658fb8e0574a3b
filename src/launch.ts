import { loadRuntimeSettings, exitOnStartupFailure, serve, startRuntime } from '@app/runtime';
import { createAdminConsole } from '../apps/admin-console/src/admin-console';
import { createWebApi } from './web-api';

/**
 * `npm start`: both apps in one process, sharing one database pool (which the embedded
 * database needs). Each app can also run alone: src/main.ts, apps/admin-console/src/main.ts.
 */
async function launch(): Promise<void> {
  const { settings, ports } = loadRuntimeSettings(process.env);
  const runtime = await startRuntime(settings);
  await serve(runtime, [
    { name: 'Web API', app: await createWebApi(runtime, { seedAdmin: true }), port: ports.web },
    { name: 'Admin console', app: await createAdminConsole(runtime, { seedAdmin: false }), port: ports.admin },
  ]);
}

launch().catch(exitOnStartupFailure);
