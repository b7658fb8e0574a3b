import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ServiceProcess } from '../support/service-process';
import { TEST_REDIS_URL } from '../support/test-app';
import { createTestDatabase, deleteRedisKeys, type TestDatabase, testRedisPrefix } from '../support/test-database';

/**
 * The README's quickstart is the first thing a newcomer runs: this test runs it, as written, with
 * bash, curl and jq against the built service started with the README's ADMIN_EMAIL and
 * ADMIN_PASSWORD. Only the two base URLs are pointed at this test's ports.
 */
const README = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
const exec = promisify(execFile);

function quickstart(): { script: string; adminEmail: string; adminPassword: string } {
  const block = /<!-- quickstart -->\n```bash\n([\s\S]*?)```\n<!-- \/quickstart -->/.exec(README);
  if (!block) throw new Error('README.md has no <!-- quickstart --> bash block');
  const start = /ADMIN_EMAIL=(\S+) ADMIN_PASSWORD='([^']+)' npm start/.exec(README);
  if (!start) throw new Error('README.md does not say how to start with a first administrator');
  return { script: block[1], adminEmail: start[1], adminPassword: start[2] };
}

describe('the README quickstart', () => {
  const cachePrefix = testRedisPrefix('quickstart');
  let database: TestDatabase;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
    await deleteRedisKeys(TEST_REDIS_URL, cachePrefix);
  });

  it('registers, signs in, reads /auth/me, logs out (the token is refused at once) and reads the audit trail as the administrator', async () => {
    const { script, adminEmail, adminPassword } = quickstart();
    expect(script.split('\n').filter((line) => line.trim() !== '').length).toBeLessThanOrEqual(10);
    service = await ServiceProcess.start({
      label: 'quickstart',
      databaseUrl: database.url,
      redisUrl: TEST_REDIS_URL,
      cachePrefix,
      env: { ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD: adminPassword },
    });
    const pointed = script
      .replace('API=http://localhost:3000', `API=${service.webUrl}`)
      .replace('CONSOLE=http://localhost:3001', `CONSOLE=${service.adminUrl}`);
    expect(pointed).not.toContain('localhost:300');

    const { stdout } = await exec('bash', ['-euo', 'pipefail', '-c', pointed], { timeout: 30_000 });
    const lines = stdout.trim().split('\n');
    console.log(`quickstart output:\n${stdout}`);

    const registered = JSON.parse(lines[0]) as { userId: string; email: string };
    expect(registered.email).toBe('ada@example.com');
    const me = JSON.parse(lines[1]) as { userId: string; sessionId: string };
    expect(me.userId).toBe(registered.userId);
    expect(lines[2]).toBe('200');
    expect(lines[3]).toBe('401');
    const audit = lines.slice(4).map((line) => JSON.parse(line) as { action: string; outcome: string; actorType: string });
    expect(audit).toHaveLength(4);
    // Newest first: the administrator's own login, then Ada's logout (which the newest entries hold).
    expect(audit[0]).toEqual({ action: 'user.login', outcome: 'succeeded', actorType: 'user' });
    expect(audit.some((entry) => entry.action === 'user.logout' && entry.outcome === 'succeeded')).toBe(true);
  }, 90_000);
});
