import { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { HostConfig, HttpAdapterName } from './host-config';

/** The host on the HTTP adapter it is asked for; main.ts and the tests start it the same way. */
export async function createHostApp(config: HostConfig, adapter: HttpAdapterName, logger?: LoggerService | LogLevel[]): Promise<INestApplication> {
  const httpAdapter = adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(AppModule.forRoot(config), httpAdapter, { logger, abortOnError: false });
  app.enableShutdownHooks();
  return app;
}
