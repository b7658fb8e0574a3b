import { ServiceProcess } from '../support/service-process';
import { createTestDatabase, deleteRedisKeys, type TestDatabase, testRedisPrefix } from '../support/test-database';
import { TEST_REDIS_URL } from '../support/test-app';

/**
 * The built service in production (both apps, one process), started, asked a few requests and
 * stopped: every line it printed, on stdout and stderr, start-up and shutdown included, is one
 * JSON object of one shape. And a clean start warns about nothing.
 */
describe('production log lines', () => {
  let database: TestDatabase;
  const cachePrefix = testRedisPrefix('production-logs');
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    service = await ServiceProcess.start({ label: 'production-logs', databaseUrl: database.url, redisUrl: TEST_REDIS_URL, cachePrefix });
    expect((await fetch(`${service.webUrl}/auth/me`)).status).toBe(401);
    expect((await fetch(`${service.webUrl}/no/such/path`)).status).toBe(404);
    expect((await fetch(`${service.webUrl}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"email":' })).status).toBe(
      400,
    );
    await service.stop();
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
    await deleteRedisKeys(TEST_REDIS_URL, cachePrefix);
  });

  it('prints only JSON lines with a label level, an ISO time and a string msg', () => {
    const lines = service!.logs;
    expect(lines.length).toBeGreaterThan(5);
    const malformed = lines.filter(
      (line) =>
        !line.json ||
        typeof line.json.msg !== 'string' ||
        !['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(line.json.level as string) ||
        !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(String(line.json.time)),
    );
    expect(malformed.map((line) => line.text)).toEqual([]);
  });

  it('includes the start-up, request and shutdown lines', () => {
    const messages = service!.logs.map((line) => line.json?.msg as string);
    expect(messages).toEqual(
      expect.arrayContaining(['Web API listening on http://127.0.0.1:' + service!.webPort + ' (OpenAPI at /docs)', 'shutdown_started', 'shutdown_complete']),
    );
    const requests = service!.logs
      .filter((line) => line.json?.msg === 'request_completed')
      .map((line) => [line.json?.url, line.json?.status, line.json?.level]);
    expect(requests).toEqual(
      expect.arrayContaining([
        ['/auth/me', 401, 'info'],
        ['/no/such/path', 404, 'info'],
        ['/auth/login', 400, 'warn'],
      ]),
    );
  });

  it('warns about nothing on a clean start', () => {
    const lines = service!.logs;
    const shutdown = lines.findIndex((line) => line.json?.msg === 'shutdown_started');
    expect(shutdown).toBeGreaterThan(0);
    const start = lines.slice(0, shutdown).filter((line) => line.json?.msg !== 'request_completed');
    expect(start.filter((line) => ['warn', 'error', 'fatal'].includes(line.json?.level as string)).map((line) => line.text)).toEqual([]);
    expect(start.some((line) => line.json?.msg === 'session_cache_reconciled' && line.json.level === 'info')).toBe(true);
  });
});
