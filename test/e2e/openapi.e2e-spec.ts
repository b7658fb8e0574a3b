import { HealthController, operationsOf, RateLimitGuard } from '@app/runtime';
import { RevocationsController } from '../../src/revocations/revocations.controller';
import { ServiceClientGuard } from '../../src/revocations/service-client.guard';
import { AccessTokenGuard, AdminGuard, OptionalAccessTokenGuard } from '@app/sessions';
import { GUARDS_METADATA } from '@nestjs/common/constants';
import type { OpenAPIObject, OperationObject } from '@nestjs/swagger';
import Ajv from 'ajv';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Response } from 'supertest';
import { AdminController } from '../../apps/admin-console/src/admin.controller';
import { AuditController } from '../../apps/admin-console/src/audit/audit.controller';
import { ConsoleAuthController } from '../../apps/admin-console/src/console-auth/console-auth.controller';
import { ConsoleGuard } from '../../apps/admin-console/src/console-auth/console.guard';
import { OverviewController } from '../../apps/admin-console/src/overview.controller';
import { UsersController } from '../../apps/admin-console/src/users.controller';
import { AuthController } from '../../src/auth/auth.controller';
import { JwksController } from '../../src/auth/jwks.controller';
import { RevocationController } from '../../src/oauth/revocation.controller';
import { bearer, signUp } from '../support/api';
import { startTestStack, type TestStack } from '../support/test-app';

const PROBLEM_JSON = 'application/problem+json';
const PROBLEM_REF = '#/components/schemas/ProblemDetails';

/** The routes anyone may call, by operationId: they must say so with `security: []`. */
const PUBLIC = {
  web: ['register', 'login', 'refresh', 'resetPassword', 'revokeToken', 'jwks', 'health', 'liveness', 'readiness'],
  admin: ['login', 'health', 'liveness', 'readiness'],
} as const;

/** Each document's controllers: an operationId is its handler's name, so the handler is found by it. */
const CONTROLLERS = {
  web: [AuthController, JwksController, RevocationController, RevocationsController, HealthController],
  admin: [ConsoleAuthController, AdminController, AuditController, UsersController, OverviewController, HealthController],
} as const;

/**
 * RFC 7009's endpoint answers as OAuth clients expect, not as the rest of the API: its 400 is an
 * RFC 6749 §5.2 error (application/json), and its 200 has no body (RFC 7009 §2.2).
 */
const OAUTH_ERROR_REF = '#/components/schemas/OAuthError';
const OAUTH_OPERATIONS: readonly string[] = ['revokeToken'];

type App = keyof typeof PUBLIC;
const APPS: readonly App[] = ['web', 'admin'];
const COMMITTED = { web: 'docs/openapi/web-api.json', admin: 'docs/openapi/admin-console.json' } as const;

function operations(document: OpenAPIObject): Array<[string, OperationObject]> {
  return operationsOf(document).map((operation) => [operation.operationId!, operation]);
}

function problemStatuses(operation: OperationObject): number[] {
  return Object.keys(operation.responses)
    .map(Number)
    .filter((status) => status >= 400);
}

/** The guards a handler runs: its controller's and its own, in Nest's metadata. */
function guardsOf(app: App, operationId: string): unknown[] {
  const controller = CONTROLLERS[app].find((candidate) => typeof (candidate.prototype as unknown as Record<string, unknown>)[operationId] === 'function');
  if (!controller) throw new Error(`No handler named ${operationId} in the ${app} controllers`);
  const handler = (controller.prototype as unknown as Record<string, unknown>)[operationId] as object;
  return [...(Reflect.getMetadata(GUARDS_METADATA, controller) ?? []), ...(Reflect.getMetadata(GUARDS_METADATA, handler) ?? [])];
}

describe('OpenAPI documents', () => {
  let stack: TestStack;
  const documents = {} as Record<App, OpenAPIObject>;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'openapi' });
    documents.web = (await stack.http().get('/docs-json').expect(200)).body;
    documents.admin = (await stack.adminHttp().get('/docs-json').expect(200)).body;
  });

  afterAll(async () => {
    await stack?.close();
  });

  it.each(APPS)('%s: is the committed copy in docs/openapi (npm run openapi:write refreshes it)', (app) => {
    const committed = JSON.parse(readFileSync(join(__dirname, '..', '..', COMMITTED[app]), 'utf8'));
    expect(documents[app]).toEqual(committed);
  });

  it.each(APPS)('%s: names the project, its version and license, and a relative server', (app) => {
    const project = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
    expect(documents[app].info).toMatchObject({
      version: project.version,
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    });
    expect(documents[app].servers).toEqual([{ url: '/', description: expect.any(String) }]);
    const tags = (documents[app].tags ?? []).map((tag) => tag.name);
    for (const [id, operation] of operations(documents[app])) {
      expect({ id, tags: operation.tags }).toEqual({ id, tags: [expect.any(String)] });
      expect(tags).toContain(operation.tags![0]);
    }
    for (const tag of documents[app].tags ?? [])
      expect({ tag: tag.name, described: (tag.description ?? '').length > 10 }).toEqual({ tag: tag.name, described: true });
  });

  it.each(APPS)('%s: answers every 4xx and 5xx it lists with a ProblemDetails as application/problem+json, Retry-After with 429 and 503', (app) => {
    const schemas = documents[app].components?.schemas ?? {};
    expect(schemas.ProblemDetails).toMatchObject({ required: expect.arrayContaining(['type', 'title', 'status', 'detail']) });
    for (const [id, operation] of operations(documents[app])) {
      for (const status of problemStatuses(operation)) {
        const response = operation.responses[String(status)] as { content?: Record<string, { schema?: unknown }>; headers?: Record<string, unknown> };
        if (OAUTH_OPERATIONS.includes(id) && status === 400) {
          expect({ id, status, content: response.content }).toEqual({ id, status, content: { 'application/json': { schema: { $ref: OAUTH_ERROR_REF } } } });
          continue;
        }
        expect({ id, status, content: response.content }).toEqual({ id, status, content: { [PROBLEM_JSON]: { schema: { $ref: PROBLEM_REF } } } });
        // A failing probe is terminus's report, not a dependency outage: no Retry-After there.
        const retries = status === 429 || (status === 503 && !['health', 'readiness'].includes(id));
        expect({ id, status, retryAfter: response.headers?.['Retry-After'] !== undefined }).toEqual({ id, status, retryAfter: retries });
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        if (OAUTH_OPERATIONS.includes(id) && status === '200') {
          expect({ id, status, content: (response as { content?: unknown }).content }).toEqual({ id, status, content: undefined });
        } else if (Number(status) < 300 && Number(status) !== 204) {
          // JSON, or what the route says it produces instead (the audit export's NDJSON and CSV).
          const content = (response as { content?: Record<string, { schema?: unknown }> }).content ?? {};
          const described = Object.keys(content).length > 0 && Object.values(content).every((media) => media.schema !== undefined);
          expect({ id, status, schema: described }).toEqual({ id, status, schema: true });
        }
      }
    }
  });

  it.each(APPS)('%s: lists 400, 413 and 415 for every operation with a body, 400 for every one with a parameter', (app) => {
    for (const [id, operation] of operations(documents[app])) {
      const statuses = problemStatuses(operation);
      if (operation.requestBody) expect({ id, statuses }).toEqual({ id, statuses: expect.arrayContaining([400, 413, 415]) });
      if ((operation.parameters ?? []).length > 0) expect({ id, statuses }).toEqual({ id, statuses: expect.arrayContaining([400]) });
      if (!operation.requestBody) expect({ id, statuses }).toEqual({ id, statuses: expect.not.arrayContaining([413, 415]) });
    }
  });

  it.each(APPS)('%s: public routes say security: [], and the others require exactly what their guards check', (app) => {
    const ids = operations(documents[app]).map(([id]) => id);
    expect(ids).toEqual(expect.arrayContaining([...PUBLIC[app]]));
    for (const [id, operation] of operations(documents[app])) {
      const guards = guardsOf(app, id);
      const statuses = problemStatuses(operation);
      if (guards.includes(ConsoleGuard)) {
        // An administrator's Bearer token or the console session's cookie: two alternatives.
        expect({ id, security: operation.security, has401: statuses.includes(401) }).toEqual({
          id,
          security: [{ bearer: [] }, { consoleSession: [] }],
          has401: true,
        });
      } else if (guards.includes(ServiceClientGuard)) {
        // A service's secret, never a user's token: its own scheme, and nothing else opens the route.
        expect({ id, security: operation.security, has401: statuses.includes(401) }).toEqual({ id, security: [{ serviceClient: [] }], has401: true });
      } else if (guards.includes(AccessTokenGuard)) {
        expect({ id, security: operation.security, has401: statuses.includes(401) }).toEqual({ id, security: [{ bearer: [] }], has401: true });
      } else if (guards.includes(OptionalAccessTokenGuard)) {
        expect({ id, security: operation.security }).toEqual({ id, security: [{ bearer: [] }, {}] });
      } else {
        expect({ id, public: (PUBLIC[app] as readonly string[]).includes(id), security: operation.security }).toEqual({ id, public: true, security: [] });
      }
      expect({ id, has403: statuses.includes(403) || !(guards.includes(AdminGuard) || guards.includes(ConsoleGuard)) }).toEqual({ id, has403: true });
      expect({ id, has429: statuses.includes(429) }).toEqual({ id, has429: guards.includes(RateLimitGuard) });
    }
  });

  it.each(APPS)('%s: every operation is a row of the route tables in docs/api.md', (app) => {
    const tables = readFileSync(join(__dirname, '..', '..', 'docs', 'api.md'), 'utf8');
    for (const [path, item] of Object.entries(documents[app].paths)) {
      for (const [method, operation] of Object.entries(item) as Array<[string, OperationObject]>) {
        const statuses = Object.keys(operation.responses);
        const problems = statuses.filter((status) => Number(status) >= 400);
        const security =
          operation.security?.length === 0
            ? 'public'
            : operation.security?.some((requirement) => 'serviceClient' in requirement)
              ? 'service client secret'
              : operation.security?.some((requirement) => 'consoleSession' in requirement)
                ? 'Bearer or console cookie'
                : operation.security?.length === 2
                  ? 'Bearer, optional'
                  : 'Bearer';
        const row = `| \`${method.toUpperCase()} ${path}\` | \`${operation.operationId}\` | ${statuses.filter((status) => Number(status) < 400).join(', ')} | ${problems.join(', ') || 'none'} | ${security} |`;
        expect({ row, inDocs: tables.includes(row) }).toEqual({ row, inDocs: true });
      }
    }
  });

  it('names each operation after its handler: unique in each document, camelCase', () => {
    for (const app of APPS) {
      const ids = operations(documents[app]).map(([id]) => id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(id).toMatch(/^[a-z][a-zA-Z]+$/);
    }
  });

  describe('real error answers match the documented ProblemDetails', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    let validateProblem: (body: unknown) => boolean;

    beforeAll(() => {
      ajv.addSchema(documents.web, 'web');
      validateProblem = ajv.getSchema('web#/components/schemas/ProblemDetails')!;
    });

    it('the schema refuses what is not a problem (Nest’s own error envelope, a string status, bad errors)', () => {
      expect(validateProblem({ type: 'about:blank', title: 'Bad Request', status: 400, detail: 'x', errors: [{ field: 'email', messages: ['m'] }] })).toBe(
        true,
      );
      expect(validateProblem({ statusCode: 400, message: 'Bad Request', error: 'Bad Request' })).toBe(false);
      expect(validateProblem({ type: 'about:blank', title: 'Bad Request', status: '400', detail: 'x' })).toBe(false);
      expect(validateProblem({ type: 'about:blank', title: 'Bad Request', status: 400, detail: 'x', errors: [{ field: 'email' }] })).toBe(false);
    });

    /** The answer is a documented status of the operation, sent as problem+json, and valid against the schema. */
    function expectDocumentedProblem(app: App, operationId: string, response: Response, status: number): void {
      const operation = operations(documents[app]).find(([id]) => id === operationId)?.[1];
      expect({ operationId, status: response.status, documented: operation?.responses[String(status)] !== undefined }).toEqual({
        operationId,
        status,
        documented: true,
      });
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      const valid = validateProblem(response.body);
      expect({ operationId, body: response.body, errors: valid ? [] : ajv.errors }).toEqual({ operationId, body: response.body, errors: [] });
    }

    it('400 for a field the validation pipe refuses, with errors', async () => {
      const response = await stack.http().post('/auth/register').send({ email: 'not-an-email', password: 'correct horse battery' });
      expectDocumentedProblem('web', 'register', response, 400);
      expect(response.body.errors).toEqual([{ field: 'email', messages: expect.any(Array) }]);
    });

    it('400 for malformed JSON, and for a path parameter that is not a UUID', async () => {
      const [user] = await signUp(stack, 1, 'openapi-400');
      expectDocumentedProblem('web', 'login', await stack.http().post('/auth/login').set('Content-Type', 'application/json').send('{"email":'), 400);
      expectDocumentedProblem(
        'web',
        'revokeSession',
        await stack
          .http()
          .delete('/auth/sessions/not-a-uuid')
          .set(...bearer(user.accessToken)),
        400,
      );
    });

    it('401 without a token, with its challenge; 403 for a non-admin on the console', async () => {
      const unauthenticated = await stack.http().get('/auth/me');
      expectDocumentedProblem('web', 'me', unauthenticated, 401);
      expect(unauthenticated.headers['www-authenticate']).toBe('Bearer realm="sessions"');
      const [user] = await signUp(stack, 1, 'openapi-403');
      expectDocumentedProblem(
        'admin',
        'queryAudit',
        await stack
          .adminHttp()
          .get('/admin/audit')
          .set(...bearer(user.accessToken)),
        403,
      );
    });

    it('404 for a session that is not the caller’s, 409 for a taken email', async () => {
      const [user] = await signUp(stack, 1, 'openapi-404');
      expectDocumentedProblem(
        'web',
        'revokeSession',
        await stack
          .http()
          .delete(`/auth/sessions/${randomUUID()}`)
          .set(...bearer(user.accessToken)),
        404,
      );
      expectDocumentedProblem(
        'web',
        'register',
        await stack.http().post('/auth/register').send({ email: user.email, password: 'another long passphrase' }),
        409,
      );
    });

    it('413 for a body over the limit, 415 for a body that is not JSON', async () => {
      const large = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(20_000) });
      expectDocumentedProblem('web', 'login', await stack.http().post('/auth/login').set('Content-Type', 'application/json').send(large), 413);
      expectDocumentedProblem('web', 'login', await stack.http().post('/auth/login').set('Content-Type', 'text/plain').send('email=a@example.com'), 415);
    });
  });
});

describe('API_DOCS=off', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'openapi-off', settings: { http: { host: '127.0.0.1', bodyLimit: '16kb', trustProxy: false, apiDocs: false } } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('answers 404 problem+json for /docs and /docs-json on both apps, and serves the API as before', async () => {
    for (const http of [() => stack.http(), () => stack.adminHttp()]) {
      for (const path of ['/docs', '/docs-json', '/docs/swagger-ui.css']) {
        const response = await http().get(path);
        expect({ path, status: response.status, type: response.headers['content-type'] }).toEqual({
          path,
          status: 404,
          type: expect.stringMatching(/^application\/problem\+json/),
        });
      }
    }
    await stack.http().get('/health').expect(200);
  });
});
