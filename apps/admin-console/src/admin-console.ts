import { createHttpApp, Runtime, seedAdministrator } from '@app/runtime';
import fastifyCookie from '@fastify/cookie';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CONSOLE_COOKIE_AUTH } from './console-auth/console-access';
import { AdminConsoleModule } from './admin-console.module';
import { consoleAssetsDir, consolePage } from './console-page';

/** Builds the admin console app (initialised, not yet listening), for its main.ts, the launcher and the tests: the REST API under /admin, the page at /. */
export async function createAdminConsole(runtime: Runtime, options: { seedAdmin: boolean } = { seedAdmin: true }): Promise<NestFastifyApplication> {
  const app = await createHttpApp(AdminConsoleModule.forRoot(runtime), runtime, {
    title: 'Sessions admin console',
    description:
      "Administrators only: inspect and end any user's sessions, read the audit trail. Sign in on the console (POST /admin/auth/login: a session cookie and its CSRF token) or send an administrator's Bearer access token. Errors are application/problem+json (RFC 9457).",
    tags: [
      { name: 'console-auth', description: 'Signing in to the console, signing out, and entering the password again before destructive actions' },
      { name: 'admin', description: 'Any user’s sessions and account, and the audit trail; an administrator’s console session or access token only' },
    ],
    corsOrigins: runtime.settings.http.corsOrigins?.admin,
    page: consolePage(consoleAssetsDir(runtime.settings.http.consoleAssetsDir)),
    cookieAuth: CONSOLE_COOKIE_AUTH,
    // The console session's cookie is this app's alone: the web API never reads cookies.
    plugins: async (app) => {
      await app.register(fastifyCookie);
    },
  });
  if (options.seedAdmin) await seedAdministrator(app, runtime.settings);
  return app;
}
