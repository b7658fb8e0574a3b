import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { INestApplication, Type } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { acceptJsonBodiesOnly } from '../http/json-bodies';
import { answerRouterError } from '../http/request-errors';
import { ProblemDetailsFilter } from '../http/problem-details.filter';
import { createValidationPipe } from '../http/validation';

/**
 * A Fastify app of the given controllers with this layer's HTTP edge as the apps set it up (JSON
 * bodies only but on `formRoutes`, the problem filter, the validation pipe), for this layer's own tests.
 */
export async function createEdgeTestApp(controllers: Type[], bodyLimitBytes = 16 * 1024, formRoutes: readonly string[] = []): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ controllers }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    new FastifyAdapter({
      bodyLimit: bodyLimitBytes,
      frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => answerRouterError(error, request, reply, { bodyLimitBytes }),
    }),
    { bodyParser: false, logger: false },
  );
  acceptJsonBodiesOnly(app.getHttpAdapter().getInstance(), bodyLimitBytes, formRoutes);
  app.useGlobalFilters(new ProblemDetailsFilter(app.getHttpAdapter(), { bodyLimitBytes }));
  app.useGlobalPipes(createValidationPipe());
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
