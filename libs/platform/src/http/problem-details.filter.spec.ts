import {
  BadRequestException,
  Controller,
  Get,
  Header,
  HttpException,
  InternalServerErrorException,
  Logger,
  NotFoundException,
  Param,
  Post,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Client } from 'pg';
import request from 'supertest';
import { QueryFailedError } from 'typeorm';
import { InvalidCommandInput } from '@app/sessions';
import { ProblemException } from './problem-details';
import { createEdgeTestApp } from '../testing/edge-test-app';
import { RETRY_AFTER_SECONDS } from './problem-details.filter';

const SECRET_MESSAGE = 'SELECT password_hash FROM users WHERE token = secret-token-123';

/** A real pg error: nothing listens on port 1. */
async function refusedConnectionError(): Promise<unknown> {
  const client = new Client({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
  } catch (error) {
    return error;
  }
  throw new Error('expected the connection to be refused');
}

@Controller()
class ThrowingController {
  static refused: unknown;

  @Get('problem')
  problem() {
    throw new ProblemException(404, 'Session not found', { type: 'https://example.com/problems/session-not-found', sessionId: 's1' });
  }

  @Get('not-found')
  notFound() {
    throw new NotFoundException('User not found');
  }

  @Get('bad-request-list')
  badRequestList() {
    throw new BadRequestException(['a is wrong', 'b is wrong']);
  }

  @Get('coded')
  coded() {
    throw new HttpException('Locked out', 423, { errorCode: 'ACCOUNT_LOCKED' });
  }

  @Get('health')
  health() {
    throw new ServiceUnavailableException({ status: 'error', info: {}, error: { database: { status: 'down' } }, details: {} });
  }

  @Get('bug')
  bug() {
    throw new TypeError(SECRET_MESSAGE);
  }

  @Get('not-an-error')
  notAnError() {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- what this route is for: a thrown non-Error must still get a problem answer
    throw { weird: SECRET_MESSAGE };
  }

  @Get('csv')
  @Header('Content-Type', 'text/csv')
  csv() {
    throw new ProblemException(409, 'Export already running');
  }

  @Get('db-refused')
  dbRefused() {
    throw ThrowingController.refused;
  }

  @Get('db-wrapped')
  dbWrapped() {
    const driverError = Object.assign(new Error('Connection terminated unexpectedly'), {});
    throw new QueryFailedError(SECRET_MESSAGE, [], driverError);
  }

  @Get('db-statement-timeout')
  statementTimeout() {
    const driverError = Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
    throw new QueryFailedError(SECRET_MESSAGE, [], driverError);
  }

  @Get('db-constraint')
  constraint() {
    const driverError = Object.assign(new Error(`duplicate key value violates unique constraint: ${SECRET_MESSAGE}`), { code: '23505' });
    throw new QueryFailedError(SECRET_MESSAGE, [], driverError);
  }

  @Get('half-sent')
  halfSent(@Res() reply: FastifyReply) {
    reply.raw.setHeader('Content-Type', 'text/plain');
    reply.raw.write('partial');
    throw new Error('failed while streaming');
  }

  @Get('explicit-500')
  explicit500() {
    throw new InternalServerErrorException('Signing key missing');
  }

  @Get('items/:id')
  item(@Param('id') id: string) {
    return { id };
  }

  @Get('refused-command-input')
  refusedCommandInput() {
    throw new InvalidCommandInput('RevokeAllUserSessions', 'userId', 'must be a UUID');
  }

  @Post('echo')
  echo() {
    return { ok: true };
  }
}

describe('ProblemDetailsFilter', () => {
  let app: INestApplication;
  let errorLog: jest.SpyInstance;
  let warnLog: jest.SpyInstance;

  beforeAll(async () => {
    ThrowingController.refused = await refusedConnectionError();
    // As the apps configure it, with a small body limit.
    app = await createEdgeTestApp([ThrowingController], 1024);
  });

  beforeEach(() => {
    errorLog = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    warnLog = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    await app.close();
  });

  const get = (path: string) => request(app.getHttpServer()).get(path);
  const postJson = (body: string, headers: Record<string, string> = {}) =>
    request(app.getHttpServer())
      .post('/echo')
      .set({ 'Content-Type': 'application/json', ...headers })
      .send(body);

  function expectProblem(response: request.Response, status: number, detail: string | RegExp): void {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(response.body).toMatchObject({ type: 'about:blank', status });
    expect(typeof response.body.title).toBe('string');
    if (typeof detail === 'string') expect(response.body.detail).toBe(detail);
    else expect(response.body.detail).toMatch(detail);
  }

  describe('HttpExceptions', () => {
    it('sends a ProblemException as it was built, with the request path as instance', async () => {
      const response = await get('/problem?token=abc');
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(response.body).toEqual({
        type: 'https://example.com/problems/session-not-found',
        title: 'Not Found',
        status: 404,
        detail: 'Session not found',
        sessionId: 's1',
        instance: '/problem',
      });
    });

    it('keeps the status and message of Nest exceptions', async () => {
      const response = await get('/not-found');
      expectProblem(response, 404, 'User not found');
      expect(response.body).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'User not found', instance: '/not-found' });
    });

    it('joins a list of messages', async () => {
      expectProblem(await get('/bad-request-list'), 400, 'a is wrong; b is wrong');
    });

    it("passes Nest's errorCode on as code", async () => {
      const response = await get('/coded');
      expectProblem(response, 423, 'Locked out');
      expect(response.body.code).toBe('ACCOUNT_LOCKED');
    });

    it('keeps the members of a custom body, such as a health check report, and logs it as a warning', async () => {
      const response = await get('/health');
      expectProblem(response, 503, 'Service Unavailable');
      expect(response.body).toMatchObject({ info: {}, error: { database: { status: 'down' } }, details: {} });
      expect(warnLog).toHaveBeenCalledTimes(1);
      expect(errorLog).not.toHaveBeenCalled();
    });

    it('answers an unknown route with 404 problem+json', async () => {
      expectProblem(await get('/nowhere'), 404, 'Cannot GET /nowhere');
    });

    it('replaces a Content-Type the handler had set', async () => {
      expectProblem(await get('/csv'), 409, 'Export already running');
    });
  });

  describe("the sessions library's refused command input", () => {
    it('answers 400 naming the field, not 500', async () => {
      const response = await get('/refused-command-input');
      expectProblem(response, 400, 'A field of the request is invalid');
      expect(response.body.errors).toEqual([{ field: 'userId', messages: ['userId must be a UUID'] }]);
      expect(errorLog).not.toHaveBeenCalled();
    });
  });

  describe('request body errors', () => {
    it('answers malformed JSON with a fixed text, not the parser message', async () => {
      const response = await postJson('{"email": "a@b.c",');
      expectProblem(response, 400, 'Malformed JSON body');
      expect(JSON.stringify(response.body)).not.toMatch(/JSON at position|Unexpected|Expected/);
    });

    it('refuses a body above the limit with 413', async () => {
      expectProblem(await postJson(JSON.stringify({ data: 'x'.repeat(2_000) })), 413, 'Request body is larger than 1024 bytes');
    });

    it('refuses an unknown Content-Encoding with 415', async () => {
      expectProblem(await postJson('{}', { 'Content-Encoding': 'compress-me' }), 415, 'Unsupported Content-Encoding');
    });

    it('refuses an unknown charset with 415', async () => {
      const response = await request(app.getHttpServer()).post('/echo').set('Content-Type', 'application/json; charset=klingon').send('{}');
      expectProblem(response, 415, 'Unsupported charset in Content-Type');
    });

    it('answers a malformed %-escape in a path parameter with 400', async () => {
      expectProblem(await get('/items/%E0%A4%A'), 400, 'Malformed percent-encoding in the URL');
    });

    it('still lets a valid body through', async () => {
      const response = await postJson('{"a":1}');
      expect(response.status).toBe(201);
      expect(response.body).toEqual({ ok: true });
    });
  });

  describe('unavailable dependencies', () => {
    it.each(['/db-refused', '/db-wrapped', '/db-statement-timeout'])('%s is a 503 with Retry-After', async (path) => {
      const response = await get(path);
      expectProblem(response, 503, 'A service this request depends on is unavailable; try again shortly');
      expect(response.headers['retry-after']).toBe(String(RETRY_AFTER_SECONDS));
      expect(JSON.stringify(response.body)).not.toContain('password_hash');
      expect(warnLog).toHaveBeenCalledTimes(1);
      expect(errorLog).not.toHaveBeenCalled();
    });
  });

  describe('unexpected errors', () => {
    it.each(['/bug', '/not-an-error', '/db-constraint'])('%s is a generic 500, logged with its stack', async (path) => {
      const response = await get(path);
      expectProblem(response, 500, 'An unexpected error occurred');
      expect(response.headers['retry-after']).toBeUndefined();
      expect(JSON.stringify(response.body)).not.toContain('secret-token-123');
      expect(errorLog).toHaveBeenCalledTimes(1);
      expect(errorLog.mock.calls[0][0]).toContain(`GET ${path}`);
    });

    it('logs a deliberate 500 HttpException as an error, keeping its message', async () => {
      expectProblem(await get('/explicit-500'), 500, 'Signing key missing');
      expect(errorLog).toHaveBeenCalledTimes(1);
    });

    it('cuts short a response that had already started, instead of passing it off as complete', async () => {
      await expect(get('/half-sent')).rejects.toThrow();
      expect(errorLog).toHaveBeenCalledWith(expect.stringContaining('error after the response started: Error: failed while streaming'), expect.any(String));
    });

    it('logs the stack of an Error', async () => {
      await get('/bug');
      expect(errorLog).toHaveBeenCalledWith(expect.stringContaining(`TypeError: ${SECRET_MESSAGE}`), expect.stringContaining('at ThrowingController.bug'));
    });
  });
});
