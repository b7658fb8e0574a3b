import { OfflineAccessTokenGuard, OfflineAccessTokenModule, type OfflineAuthenticatedRequest } from '@app/sessions';
import { Controller, Get, Module, Req, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * Another service that accepts the sessions service's access tokens offline: no database, no
 * Redis, only the JWKS and the revocation feed (OfflineAccessTokenModule). Configured by
 * JWKS_URL, FEED_URL, SERVICE_SECRET, POLL_INTERVAL_MS, MAX_FEED_AGE_MS and PORT; test/e2e/offline-verifier.e2e-spec.ts
 * runs it as a process against the real service.
 */
@Controller()
class WhoAmIController {
  @Get('whoami')
  @UseGuards(OfflineAccessTokenGuard)
  whoami(@Req() request: OfflineAuthenticatedRequest): OfflineAuthenticatedRequest['offlineSession'] {
    return request.offlineSession;
  }
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  @Module({
    imports: [
      OfflineAccessTokenModule.forRoot({
        jwksUrl: required('JWKS_URL'),
        feedUrl: required('FEED_URL'),
        serviceSecret: required('SERVICE_SECRET'),
        pollIntervalMs: Number(process.env.POLL_INTERVAL_MS ?? 5_000),
        ...(process.env.MAX_FEED_AGE_MS ? { maxFeedAgeMs: Number(process.env.MAX_FEED_AGE_MS) } : {}),
      }),
    ],
    controllers: [WhoAmIController],
  })
  class OfflineVerifierModule {}

  const app = await NestFactory.create<NestFastifyApplication>(OfflineVerifierModule, new FastifyAdapter(), { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3100), '127.0.0.1');
  console.log(`offline-verifier listening on http://127.0.0.1:${process.env.PORT ?? 3100}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
