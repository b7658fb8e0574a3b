import { createHttpApp, Runtime, seedAdministrator } from '@app/runtime';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AdminConsoleModule } from './admin-console.module';
import { consoleAssetsDir, consolePage } from './console-page';

/** Builds the admin console app (initialised, not yet listening), for its main.ts, the launcher and the tests: the REST API under /admin, the page at /. */
export async function createAdminConsole(runtime: Runtime, options: { seedAdmin: boolean } = { seedAdmin: true }): Promise<NestFastifyApplication> {
  const app = await createHttpApp(AdminConsoleModule.forRoot(runtime), runtime, {
    title: 'Sessions admin console',
    description: "Administrators only: inspect and end any user's sessions, read the audit trail. Errors are application/problem+json (RFC 9457).",
    tags: [{ name: 'admin', description: 'Any user’s sessions and account, and the audit trail; an administrator’s access token only' }],
    corsOrigins: runtime.settings.http.corsOrigins?.admin,
    page: consolePage(consoleAssetsDir(runtime.settings.http.consoleAssetsDir)),
  });
  if (options.seedAdmin) await seedAdministrator(app, runtime.settings);
  return app;
}
