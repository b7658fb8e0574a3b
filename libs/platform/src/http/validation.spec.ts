import { Body, Controller, Get, INestApplication, Logger, Post, Query } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsOptional, IsString, Length, Min, ValidateNested } from 'class-validator';
import request from 'supertest';
import { createEdgeTestApp } from '../testing/edge-test-app';
import { ProblemException } from './problem-details';
import { createValidationPipe, fieldErrors, MAX_INPUT_DEPTH, MaxStoredLength, UuidParam, validationProblem } from './validation';

class AddressDto {
  @IsString()
  city: string;
}

class DeviceDto {
  @IsString()
  @Length(1, 20)
  name: string;
}

class SignUpDto {
  @IsEmail()
  email: string;

  @IsString()
  @Length(8, 128)
  password: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => AddressDto)
  address?: AddressDto;

  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => DeviceDto)
  devices?: DeviceDto[];

  @IsOptional()
  @IsInt()
  @Min(0)
  age?: number;
}

class NoteDto {
  @IsString()
  @MaxStoredLength(5)
  note: string;

  @IsOptional()
  @IsString()
  @MaxStoredLength(5, (value) => value.toLowerCase())
  lowered?: string;
}

class PageQuery {
  @IsOptional()
  @IsString()
  userId?: string;
}

/** A DTO without rules: Nest alone would let `[]` through for it. */
class NoRulesDto {
  note?: string;
}

@Controller()
class TestController {
  @Post('sign-up')
  signUp(@Body() body: SignUpDto) {
    return { isInstance: body instanceof SignUpDto, body };
  }

  @Post('no-rules')
  noRules(@Body() body: NoRulesDto) {
    return { body };
  }

  @Post('note')
  note(@Body() body: NoteDto) {
    return { body };
  }

  @Get('page')
  page(@Query() query: PageQuery) {
    return { query };
  }

  @Get('sessions/:sessionId')
  session(@UuidParam('sessionId') sessionId: string) {
    return { sessionId };
  }
}

const VALID = { email: 'user@example.com', password: 'long enough' };

describe('createValidationPipe', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createEdgeTestApp([TestController]);
  });

  beforeEach(() => {
    // A 4xx is never an unexpected error: fail loudly if the filter logs one.
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => {
      throw new Error(`unexpected error log: ${String(message)}`);
    });
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    await app.close();
  });

  const post = (path: string, body: unknown) =>
    request(app.getHttpServer())
      .post(path)
      .set('Content-Type', 'application/json')
      .send(typeof body === 'string' ? body : JSON.stringify(body));

  it('passes a valid body through as an instance of the DTO, numbers as numbers', async () => {
    const response = await post('/sign-up', { ...VALID, age: 30, devices: [{ name: 'phone' }] });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ isInstance: true, body: { ...VALID, age: 30, devices: [{ name: 'phone' }] } });
  });

  it('answers an invalid body with a 400 problem listing each field', async () => {
    const response = await post('/sign-up', { email: 'not-an-email', password: 'short' });
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(response.body).toEqual({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: 'The request has 2 invalid fields: email, password',
      instance: '/sign-up',
      errors: [
        { field: 'email', messages: ['email must be an email'] },
        { field: 'password', messages: ['password must be longer than or equal to 8 characters'] },
      ],
    });
  });

  it('names nested fields with dotted paths', async () => {
    const response = await post('/sign-up', { ...VALID, address: { city: 7 }, devices: [{ name: 'ok' }, { name: '' }] });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      { field: 'address.city', messages: ['city must be a string'] },
      { field: 'devices.1.name', messages: ['name must be longer than or equal to 1 characters'] },
    ]);
    expect(response.body.detail).toBe('The request has 2 invalid fields: address.city, devices.1.name');
  });

  it('refuses unknown properties instead of dropping them', async () => {
    const response = await post('/sign-up', { ...VALID, role: 'admin' });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: 'role', messages: ['property role should not exist'] }]);
  });

  it('does not echo submitted values', async () => {
    const response = await post('/sign-up', { email: 'x', password: 'hunter2' });
    expect(JSON.stringify(response.body)).not.toContain('hunter2');
  });

  it('answers a missing body with the missing fields', async () => {
    const response = await request(app.getHttpServer()).post('/sign-up');
    expect(response.status).toBe(400);
    expect(response.body.errors.map((error: { field: string }) => error.field)).toEqual(['email', 'password']);
  });

  // issue 8 #20: a lone surrogate in the register email was a 500 with a stack trace.
  describe('ill-formed strings', () => {
    it('answers a lone UTF-16 surrogate in a body field with a 400 problem naming the field', async () => {
      const response = await post('/sign-up', '{"email":"user\\ud800@example.com","password":"long enough","address":{"city":"\\udfff"}}');
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(response.body).toMatchObject({
        detail: 'The request has 2 invalid fields: email, address.city',
        errors: [
          { field: 'email', messages: ['email must be well-formed Unicode (it holds a lone UTF-16 surrogate)'] },
          { field: 'address.city', messages: ['address.city must be well-formed Unicode (it holds a lone UTF-16 surrogate)'] },
        ],
      });
    });

    it('answers a lone surrogate in a property name with a 400, the name shown with U+FFFD', async () => {
      const response = await post('/sign-up', '{"email":"user@example.com","password":"long enough","x\\ud83d":1}');
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: 'x\uFFFD', messages: ['x\uFFFD must be well-formed Unicode (it holds a lone UTF-16 surrogate)'] }]);
    });

    it('accepts well-formed surrogate pairs (emoji) and the replacement character', async () => {
      const response = await post('/note', { note: '\u{1F600}\uFFFD' });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({ body: { note: '\u{1F600}\uFFFD' } });
    });

    it('refuses an ill-formed query value and path parameter, with or without a DTO', async () => {
      const pipe = createValidationPipe();
      const refusal = async (value: unknown, metadata: Parameters<typeof pipe.transform>[1]) => {
        try {
          await pipe.transform(value, metadata);
        } catch (error) {
          return error instanceof ProblemException ? { status: error.getStatus(), body: error.getResponse() } : error;
        }
        return 'accepted';
      };
      expect(await refusal({ action: 'user.login\ud800', limit: '5' }, { type: 'query', metatype: Object })).toMatchObject({
        status: 400,
        body: { errors: [{ field: 'action', messages: ['action must be well-formed Unicode (it holds a lone UTF-16 surrogate)'] }] },
      });
      expect(await refusal('\udc00abc', { type: 'param', data: 'sessionId', metatype: String })).toMatchObject({
        status: 400,
        body: { errors: [{ field: 'sessionId', messages: ['sessionId must be well-formed Unicode (it holds a lone UTF-16 surrogate)'] }] },
      });
      expect(await refusal('abc', { type: 'param', data: 'sessionId', metatype: String })).toBe('accepted');
    });
  });

  describe('a JSON body that is not an object', () => {
    it.each([
      ['[]', '/sign-up'],
      ['[{"email":"user@example.com","password":"long enough"}]', '/sign-up'],
      ['[]', '/no-rules'],
    ])('refuses %s on %s', async (body, path) => {
      const response = await post(path, body);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(response.body).toMatchObject({
        detail: 'The request body must be a JSON object',
        errors: [{ field: 'body', messages: ['body must be a JSON object'] }],
      });
    });

    // The strict JSON parser refuses a top-level scalar before any pipe runs.
    it.each(['"x"', '1', 'true', 'null'])('refuses %s as malformed', async (body) => {
      const response = await post('/sign-up', body);
      expect(response.status).toBe(400);
      expect(response.body.detail).toBe('Malformed JSON body');
    });

    // forbidUnknownValues: a DTO class with no decorator at all is refused whatever comes, so
    // every DTO needs at least one rule (an empty body DTO would be a bug anyway).
    it('refuses even an object for a DTO without any rule', async () => {
      const response = await post('/no-rules', {});
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: '(body)', messages: ['an unknown value was passed to the validate function'] }]);
    });
  });

  describe('input class-transformer must not see', () => {
    // class-transformer recursed once per level and overflowed the stack: a 500 for a 16 kB body.
    it.each([
      ['nested arrays', `{"email":${'['.repeat(7_000)}${']'.repeat(7_000)}}`],
      ['nested objects', `{"x":${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}}`],
    ])('refuses %s deeper than the limit with a 400', async (_shape, body) => {
      const response = await post('/sign-up', body);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        detail: 'The body is nested too deeply',
        errors: [{ field: 'body', messages: [`body must not be nested more than ${MAX_INPUT_DEPTH} levels deep`] }],
      });
    });

    it('lets nesting within the limit through to the rules', async () => {
      const response = await post('/sign-up', { ...VALID, address: { city: 'Paris' } });
      expect(response.status).toBe(201);
    });

    // Nest drops __proto__ and constructor; class-validator's whitelist takes toString and the
    // like for declared properties: all of them went through as if absent.
    it.each(['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'])('refuses a property named %s', async (key) => {
      const response = await post('/sign-up', `{"email":"user@example.com","password":"long enough",${JSON.stringify(key)}:{"x":1}}`);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: key, messages: [`property ${key} should not exist`] }]);
    });

    // Nest's ValidationPipe deletes `prototype` (with __proto__ and constructor) before
    // class-transformer runs, and `prototype` is no member of Object.prototype, so it went through
    // as if absent: GET /admin/audit?prototype= was a 200. fast-check's strings include it now and
    // then, which is why bad-input.e2e failed on some seeds only.
    it.each(['prototype', 'apply', 'bind', 'call', 'caller', 'arguments', 'length', 'name'])('refuses a property named %s', async (key) => {
      const response = await post('/sign-up', `{"email":"user@example.com","password":"long enough",${JSON.stringify(key)}:{"x":1}}`);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: key, messages: [`property ${key} should not exist`] }]);
    });

    it.each(['prototype', '__proto__', 'constructor', 'toString'])('refuses a query parameter named %s, as Fastify parses the query', async (key) => {
      const response = await request(app.getHttpServer()).get(`/page?userId=a&${key}=`);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: key, messages: [`property ${key} should not exist`] }]);
    });

    it('refuses them nested too, by their path', async () => {
      const response = await post('/sign-up', `{"email":"user@example.com","password":"long enough","address":{"city":"x","toString":1}}`);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: 'address.toString', messages: ['property address.toString should not exist'] }]);
    });

    // PostgreSQL cannot store U+0000 in text or jsonb: the statement, and the audit entry quoting it, failed.
    it('refuses a string holding U+0000', async () => {
      const response = await post('/sign-up', { email: 'user@example.com', password: 'long\u0000enough' });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: 'password', messages: ['password must not contain the NUL character (U+0000)'] }]);
      expect(JSON.stringify(response.body)).not.toContain('enough');
    });
  });

  describe('MaxStoredLength', () => {
    it('counts code points, as varchar(n) does, U+FE0F included', async () => {
      expect((await post('/note', { note: '😀😀😀😀😀' })).status).toBe(201);
      const response = await post('/note', { note: 'abc\uFE0F\uFE0F\uFE0F' });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: 'note', messages: ['note must be shorter than or equal to 5 characters'] }]);
    });

    it('measures the value as it will be stored', async () => {
      expect((await post('/note', { note: 'ok', lowered: 'IIIII' })).status).toBe(201);
      // 'İ' lowercases to 'i' and a combining dot: five characters become ten.
      expect((await post('/note', { note: 'ok', lowered: 'İİİİİ' })).status).toBe(400);
    });
  });

  describe('UuidParam', () => {
    it('passes a UUID through', async () => {
      const id = '0195f2a4-8b7c-7d3e-9f10-1a2b3c4d5e6f'; // v7
      const response = await request(app.getHttpServer()).get(`/sessions/${id}`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ sessionId: id });
    });

    it('answers a bad id with a 400 problem naming the parameter', async () => {
      const response = await request(app.getHttpServer()).get('/sessions/not-a-uuid');
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(response.body).toEqual({
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'Parameter "sessionId" is not a UUID',
        instance: '/sessions/not-a-uuid',
        errors: [{ field: 'sessionId', messages: ['sessionId must be a UUID'] }],
      });
    });
  });
});

describe('fieldErrors', () => {
  it('flattens nested errors and keeps the messages of a parent and its children', () => {
    expect(
      fieldErrors([
        {
          property: 'address',
          constraints: { isDefined: 'address should not be null or undefined' },
          children: [{ property: 'city', constraints: { isString: 'city must be a string' }, children: [] }],
        },
      ]),
    ).toEqual([
      { field: 'address', messages: ['address should not be null or undefined'] },
      { field: 'address.city', messages: ['city must be a string'] },
    ]);
  });

  it('caps a huge list of errors in the problem', () => {
    const errors = Array.from({ length: 120 }, (_, index) => ({ property: `f${index}`, constraints: { x: `f${index} is wrong` }, children: [] }));
    const body = validationProblem(errors).problem;
    expect(body.errors).toHaveLength(50);
    expect(body.detail).toMatch(/^The request has 120 invalid fields: f0, f1, .*f49 \(and 70 more\)$/);
  });
});
