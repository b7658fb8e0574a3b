import { createHttpApp, Runtime, seedAdministrator } from '@app/runtime';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { WebApiModule } from './app.module';
import { TOKEN_REVOCATION_ROUTE } from './oauth/revocation.controller';
import { SERVICE_CLIENT_SCHEME } from './revocations/service-client.guard';

/** Builds the web API app (initialised, not yet listening), for main.ts, the launcher and the tests. */
export async function createWebApi(runtime: Runtime, options: { seedAdmin: boolean } = { seedAdmin: true }): Promise<NestFastifyApplication> {
  const app = await createHttpApp(WebApiModule.forRoot(runtime), runtime, {
    title: 'Sessions web API',
    description:
      'Sign in, refresh, log out, and see or end your own sessions. Errors are application/problem+json (RFC 9457), but for the 400s of POST /oauth/revoke, which are OAuth’s own JSON (RFC 6749 §5.2).',
    corsOrigins: runtime.settings.http.corsOrigins?.web,
    tags: [
      { name: 'auth', description: 'Accounts, sign-in and the caller’s own sessions' },
      { name: 'keys', description: 'The public keys that verify access tokens (RFC 7517)' },
      { name: 'oauth', description: 'Token revocation for OAuth client libraries (RFC 7009)' },
      { name: 'revocations', description: 'The revocation feed, for services that verify access tokens offline' },
    ],
    otherBearerAuth: { scheme: SERVICE_CLIENT_SCHEME, description: 'A service client secret, whose SHA-256 SERVICE_CLIENTS lists; never an access token' },
    formRoutes: [TOKEN_REVOCATION_ROUTE],
  });
  if (options.seedAdmin) await seedAdministrator(app, runtime.settings);
  return app;
}
