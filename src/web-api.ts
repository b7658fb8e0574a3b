import { allowCrossOrigin, configureHttpApp, Runtime, seedAdministrator } from '@app/runtime';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { WebApiModule } from './app.module';

/** Builds the web API app (initialised, not yet listening), for main.ts, the launcher and the tests. */
export async function createWebApi(runtime: Runtime, options: { seedAdmin: boolean } = { seedAdmin: true }): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(WebApiModule.forRoot(runtime), {
    bodyParser: false,
    logger: runtime.settings.logger,
    // A start-up error (a bad option, a missing dependency) rejects here, for the caller to report, instead of exiting the process.
    abortOnError: false,
  });
  configureHttpApp(app, runtime.settings, {
    title: 'Sessions web API',
    description: 'Sign in, refresh, log out, and see or end your own sessions. Errors are application/problem+json (RFC 9457).',
  });
  allowCrossOrigin(app, runtime.settings.http.corsOrigins?.web);
  await app.init();
  if (options.seedAdmin) await seedAdministrator(app, runtime.settings);
  return app;
}
