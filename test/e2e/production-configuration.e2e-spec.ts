import { spawn } from 'node:child_process';
import path from 'node:path';
import { buildService, freePort, ServiceProcess } from '../support/service-process';
import { TEST_REDIS_URL } from '../support/test-app';
import { createTestDatabase, type TestDatabase, testRedisPrefix } from '../support/test-database';

/**
 * The service as an operator starts it (`node dist/src/main.js`), forgetting things: no NODE_ENV,
 * no DATABASE_URL, no REDIS_URL. It must fail closed, and what it tolerates by explicit opt-in it
 * must say in the production log format (issue 8 #4, #5).
 */

jest.setTimeout(90_000);

interface Exit {
  readonly code: number | null;
  readonly output: string;
  readonly elapsedMs: number;
}

/** Runs the web API with exactly `env` (and PATH) until it exits; fails if it is still running after timeoutMs. */
async function runToExit(env: Record<string, string>, timeoutMs: number): Promise<Exit> {
  const buildDir = await buildService();
  const started = Date.now();
  const child = spawn(process.execPath, ['--require', './parent-watch.js', path.join('src', 'main.js')], {
    cwd: buildDir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return new Promise<Exit>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running after ${timeoutMs} ms (it started instead of refusing):\n${output.slice(-2_000)}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      // Production lines are JSON: the refusal is the `msg` of a fatal line. A line that is not JSON stays as it is (and fails the checks).
      const text = output
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          try {
            const parsed = JSON.parse(line) as { level?: unknown; msg?: unknown };
            return typeof parsed.msg === 'string' && typeof parsed.level === 'string' ? parsed.msg : line;
          } catch {
            return line;
          }
        })
        .join('\n');
      resolve({ code, output: text, elapsedMs: Date.now() - started });
    });
  });
}

describe('production configuration', () => {
  it('refuses to start without NODE_ENV, DATABASE_URL, REDIS_URL and ACCESS_TOKEN_SECRET, naming each in one error', async () => {
    const exit = await runToExit({ PORT: String(await freePort()), HOST: '127.0.0.1' }, 20_000);
    expect(exit.code).toBe(1);
    expect(exit.output).toContain('Invalid environment configuration');
    expect(exit.output).toContain('ACCESS_TOKEN_SECRET is required in production (NODE_ENV=production, or NODE_ENV unset)');
    expect(exit.output).toContain('DATABASE_URL and REDIS_URL are required in production (NODE_ENV=production, or NODE_ENV unset)');
    expect(exit.output).not.toContain('EMBEDDED MODE');
    console.log(`refused in ${exit.elapsedMs} ms, before opening a port`);
  });

  it('refuses an embedded database in production even with a secret and the single-instance cache opt-in', async () => {
    const exit = await runToExit(
      {
        NODE_ENV: 'production',
        ACCESS_TOKEN_SECRET: 'production-configuration-secret-32-chars',
        IN_PROCESS_CACHE_SINGLE_INSTANCE: 'true',
        PORT: String(await freePort()),
        HOST: '127.0.0.1',
      },
      20_000,
    );
    expect(exit.code).toBe(1);
    expect(exit.output).toContain('DATABASE_URL is required in production');
    expect(exit.output).not.toContain('REDIS_URL is required');
  });

  it('refuses a CORS_ORIGINS wildcard or path before opening a port, naming the variable and each bad entry', async () => {
    const exit = await runToExit(
      {
        NODE_ENV: 'production',
        ACCESS_TOKEN_SECRET: 'production-configuration-secret-32-chars',
        DATABASE_URL: 'postgres://127.0.0.1:1/none',
        REDIS_URL: 'redis://127.0.0.1:1',
        CORS_ORIGINS: 'https://app.example.com,*,https://app.example.com/login',
        PORT: String(await freePort()),
        HOST: '127.0.0.1',
      },
      20_000,
    );
    expect(exit.code).toBe(1);
    expect(exit.output).toContain('Invalid environment configuration');
    expect(exit.output).toContain(
      'CORS_ORIGINS must be a comma-separated list of exact origins such as https://app.example.com or http://localhost:5173; refused: a wildcard: list each origin that may call the API; "https://app.example.com/login", which has a path (an origin is scheme://host[:port] only)',
    );
  });

  it.each([
    ['0', 'SESSION_MAX_PER_USER must be an integer of at least 1 (got "0")'],
    ['-3', 'SESSION_MAX_PER_USER must be an integer of at least 1 (got "-3")'],
    ['2.5', 'SESSION_MAX_PER_USER must be an integer of at least 1 (got "2.5")'],
    ['five', 'SESSION_MAX_PER_USER must be an integer of at least 1 (got "five")'],
  ])('refuses SESSION_MAX_PER_USER=%s and an unknown SESSION_LIMIT_POLICY before opening a port, naming both', async (cap, message) => {
    const exit = await runToExit(
      {
        NODE_ENV: 'production',
        ACCESS_TOKEN_SECRET: 'production-configuration-secret-32-chars',
        DATABASE_URL: 'postgres://127.0.0.1:1/none',
        REDIS_URL: 'redis://127.0.0.1:1',
        SESSION_MAX_PER_USER: cap,
        SESSION_LIMIT_POLICY: 'evict_newest',
        PORT: String(await freePort()),
        HOST: '127.0.0.1',
      },
      20_000,
    );
    expect(exit.code).toBe(1);
    expect(exit.output).toContain('Invalid environment configuration');
    expect(exit.output).toContain(message);
    expect(exit.output).toContain('SESSION_LIMIT_POLICY must be one of evict_oldest, deny_new (got "evict_newest")');
  });

  describe('a deliberate single-instance production without Redis', () => {
    let database: TestDatabase;
    let service: ServiceProcess | undefined;

    beforeAll(async () => {
      database = await createTestDatabase();
    });

    afterAll(async () => {
      await service?.stop();
      await database?.drop();
    });

    it('starts with IN_PROCESS_CACHE_SINGLE_INSTANCE=true and logs its embedded-mode warning through the JSON logger', async () => {
      service = await ServiceProcess.start({
        label: 'single-instance',
        apps: 'web',
        databaseUrl: database.url,
        redisUrl: TEST_REDIS_URL,
        cachePrefix: testRedisPrefix('single-instance'),
        env: { NODE_ENV: 'production', REDIS_URL: '', IN_PROCESS_CACHE_SINGLE_INSTANCE: 'true' },
      });
      const health = (await (await fetch(`${service.webUrl}/health`)).json()) as { info: { cache: { store: string } } };
      expect(health.info.cache.store).toBe('in-process memory');
      const notJson = service.logs.filter((line) => line.json === undefined).map((line) => line.text);
      expect(notJson).toEqual([]);
      const warning = service.logs.find((line) => /EMBEDDED MODE: no REDIS_URL/.test(String(line.json?.msg)));
      expect(warning?.json).toMatchObject({ level: 'warn', context: 'Runtime' });
      console.log(`${service.logs.length} log lines, all JSON; warning: ${warning?.text}`);
    });
  });
});
