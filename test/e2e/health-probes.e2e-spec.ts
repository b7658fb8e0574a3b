import { startTestStack, type TestStack } from '../support/test-app';

/**
 * The probes an orchestrator asks both apps: liveness (the process answers, nothing else is
 * checked), readiness (database and cache, and not shutting down), and /health, kept as readiness.
 */

jest.setTimeout(60_000);

const PROBLEM_JSON = /^application\/problem\+json/;

describe('health probes', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'health-probes' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  const apps = () => [['web API', () => stack.http()] as const, ['admin console', () => stack.adminHttp()] as const];

  it('answers liveness without asking the dependencies, and readiness (and /health) with them', async () => {
    for (const [name, http] of apps()) {
      const live = await http().get('/health/live');
      expect({ name, status: live.status, body: live.body }).toEqual({
        name,
        status: 200,
        body: {
          status: 'ok',
          info: { process: { status: 'up', shuttingDown: false } },
          error: {},
          details: { process: { status: 'up', shuttingDown: false } },
        },
      });
      for (const path of ['/health/ready', '/health']) {
        const ready = await http().get(path);
        expect({ name, path, status: ready.status }).toEqual({ name, path, status: 200 });
        expect(ready.body).toMatchObject({ status: 'ok', details: { database: { status: 'up' }, cache: { status: 'up' } } });
        expect(ready.body.details).not.toHaveProperty('process');
      }
    }
  });

  it('lists the three probes in the OpenAPI document', async () => {
    const document = await stack.http().get('/docs-json').expect(200);
    expect(Object.keys(document.body.paths)).toEqual(expect.arrayContaining(['/health', '/health/live', '/health/ready']));
  });

  // Last: the process stays in its shutdown for the rest of the file.
  it('once shutdown begins: readiness and /health 503 problem+json at once, liveness still 200, other routes still served', async () => {
    stack.runtime.lifecycle.beginShutdown();
    const logged = stack.logs.lines.length;
    for (const [name, http] of apps()) {
      for (const path of ['/health/ready', '/health']) {
        const ready = await http().get(path);
        expect({ name, path, status: ready.status, type: ready.headers['content-type'] }).toEqual({
          name,
          path,
          status: 503,
          type: expect.stringMatching(PROBLEM_JSON),
        });
        expect(ready.body).toMatchObject({
          status: 503,
          info: {},
          error: { process: { status: 'down', shuttingDown: true } },
          details: { process: { status: 'down', shuttingDown: true } },
        });
        // Not asked: the answer does not wait on PostgreSQL or Redis.
        expect(ready.body.details).not.toHaveProperty('database');
      }
      const live = await http().get('/health/live');
      expect({ name, status: live.status, process: live.body.details?.process }).toEqual({ name, status: 200, process: { status: 'up', shuttingDown: true } });
    }
    await stack.http().get('/auth/me').expect(401);
    // An expected state, not a failure: nothing at error level.
    const errors = stack.logs.lines.slice(logged).filter((line) => JSON.parse(line).level === 'error');
    expect(errors).toEqual([]);
  });
});
