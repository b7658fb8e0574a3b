import { Body, Controller, Logger, Post } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { IsBoolean, IsOptional } from 'class-validator';
import request from 'supertest';
import { createEdgeTestApp } from '../testing/edge-test-app';
import { parseFormBody } from './json-bodies';

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

  // The one kind of route that takes a form (an OAuth endpoint); what it got, prototype included.
  @Post('form')
  form(@Body() body: unknown) {
    return { fields: body === undefined ? null : { ...(body as object) }, prototype: body === undefined ? null : Object.getPrototypeOf(body) };
  }
}

describe('acceptJsonBodiesOnly', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createEdgeTestApp([RevokeController], 16 * 1024, ['/form']);
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

  describe('on a form route', () => {
    const post = (type: string, body: string) => request(app.getHttpServer()).post('/form').set('Content-Type', type).send(body);

    it('reads an application/x-www-form-urlencoded body, with or without a UTF-8 charset, and at its template whatever the query', async () => {
      await post('application/x-www-form-urlencoded', 'token=a%2Bb+c&token_type_hint=refresh_token').expect(201, {
        fields: { token: 'a+b c', token_type_hint: 'refresh_token' },
        prototype: null,
      });
      await post('application/x-www-form-urlencoded; charset=UTF-8', 'token=%C3%A9').expect(201, { fields: { token: 'é' }, prototype: null });
      await request(app.getHttpServer())
        .post('/form?token=ignored')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send('token=t')
        .expect(201, { fields: { token: 't' }, prototype: null });
    });

    it('keeps every value of a field sent twice, and a field named __proto__ as a field', async () => {
      await post('application/x-www-form-urlencoded', 'token=a&token=b&__proto__=x').expect(
        201,
        JSON.parse('{"fields":{"token":["a","b"],"__proto__":"x"},"prototype":null}'),
      );
      expect(Object.getPrototypeOf(parseFormBody('constructor=1'))).toBeNull();
    });

    it.each([
      ['application/json', '{"token":"t"}'],
      ['text/plain', 'token=t'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="token"\r\n\r\nt\r\n--x--'],
    ])('answers a %s body with a 415 problem that names the form type', async (type, body) => {
      const response = await post(type, body);
      expect(response.status).toBe(415);
      expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(response.body).toMatchObject({ status: 415, detail: expect.stringContaining('application/x-www-form-urlencoded') });
    });

    it('refuses a form in another charset or Content-Encoding, and one over the limit', async () => {
      await post('application/x-www-form-urlencoded; charset=iso-8859-1', 'token=t').expect(415);
      await request(app.getHttpServer())
        .post('/form')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .set('Content-Encoding', 'gzip')
        .send('token=t')
        .expect(415);
      await post('application/x-www-form-urlencoded', `token=${'a'.repeat(17 * 1024)}`).expect(413);
    });

    it('passes a form route no body at all', async () => {
      await request(app.getHttpServer()).post('/form').expect(201, { fields: null, prototype: null });
      await post('application/x-www-form-urlencoded', '').expect(201, { fields: {}, prototype: null });
    });

    it('still answers a form 415 on every other route', async () => {
      const response = await request(app.getHttpServer()).post('/revoke-all').set('Content-Type', 'application/x-www-form-urlencoded').send('keepCurrent=true');
      expect(response.status).toBe(415);
      expect(response.body).toMatchObject({ detail: expect.stringContaining('application/json') });
    });
  });
});
