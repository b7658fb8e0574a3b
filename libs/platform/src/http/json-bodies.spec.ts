import { Body, Controller, Logger, Post } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { IsBoolean, IsOptional } from 'class-validator';
import request from 'supertest';
import { createEdgeTestApp } from '../testing/edge-test-app';

class RevokeAllDto {
  @IsOptional()
  @IsBoolean()
  keepCurrent?: boolean;
}

@Controller()
class RevokeController {
  @Post('revoke-all')
  revokeAll(@Body() body: RevokeAllDto) {
    return { keepCurrent: body.keepCurrent ?? false };
  }
}

describe('acceptJsonBodiesOnly', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createEdgeTestApp([RevokeController]);
  });

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => {
      throw new Error(`unexpected error log: ${String(message)}`);
    });
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    await app.close();
  });

  // Unparsed, these bodies reached the route as no body at all: `{}`, so keepCurrent was false.
  it.each([
    ['application/x-www-form-urlencoded', 'keepCurrent=true'],
    ['text/plain', '{"keepCurrent":true}'],
    ['application/xml', '<keepCurrent>true</keepCurrent>'],
    ['application/vnd.api+json', '{"keepCurrent":true}'],
  ])('answers a %s body with a 415 problem', async (type, body) => {
    const response = await request(app.getHttpServer()).post('/revoke-all').set('Content-Type', type).send(body);
    expect(response.status).toBe(415);
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(response.body).toMatchObject({ status: 415, title: 'Unsupported Media Type', detail: expect.stringContaining('application/json') });
  });

  it('refuses a body sent without any Content-Type', async () => {
    const response = await request(app.getHttpServer()).post('/revoke-all').set('Content-Length', '4').send(Buffer.from('true'));
    expect(response.status).toBe(415);
  });

  it('passes JSON, with or without a charset, and requests without a body', async () => {
    const server = app.getHttpServer();
    await request(server).post('/revoke-all').set('Content-Type', 'application/json').send('{"keepCurrent":true}').expect(201, { keepCurrent: true });
    await request(server)
      .post('/revoke-all')
      .set('Content-Type', 'application/json; charset=utf-8')
      .send('{"keepCurrent":true}')
      .expect(201, { keepCurrent: true });
    await request(server).post('/revoke-all').expect(201, { keepCurrent: false });
    await request(server).post('/revoke-all').set('Content-Type', 'text/plain').set('Content-Length', '0').expect(201, { keepCurrent: false });
  });
});
