import { allowCrossOrigin, configureHttpApp, Runtime, seedAdministrator } from '@app/runtime';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AdminConsoleModule } from './admin-console.module';

/** Builds the admin console app (initialised, not yet listening), for its main.ts, the launcher and the tests. */
export async function createAdminConsole(runtime: Runtime, options: { seedAdmin: boolean } = { seedAdmin: true }): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AdminConsoleModule.forRoot(runtime), {
    bodyParser: false,
    logger: runtime.settings.logger,
    // A start-up error (a bad option, a missing dependency) rejects here, for the caller to report, instead of exiting the process.
    abortOnError: false,
  });
  configureHttpApp(app, runtime.settings, {
    title: 'Sessions admin console',
    description: "Administrators only: inspect and end any user's sessions, read the audit trail.",
  });
  allowCrossOrigin(app, runtime.settings.http.corsOrigins?.admin);
  await app.init();
  if (options.seedAdmin) await seedAdministrator(app, runtime.settings);
  return app;
}
