import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expectEventually } from '../support/eventually';
import { freePort, ServiceProcess } from '../support/service-process';
import { TEST_REDIS_URL } from '../support/test-app';
import { createTestDatabase, deleteRedisKeys, type TestDatabase, testRedisPrefix } from '../support/test-database';

jest.setTimeout(180_000);

const REPO_ROOT = path.resolve(__dirname, '../..');
const exec = promisify(execFile);
const POLL_INTERVAL_MS = 500;
/** The stated bound: one poll interval plus one round of requests (a generous second here, on a shared machine). */
const BOUND_MS = POLL_INTERVAL_MS + 1_000;
/** How stale the deny list may get before the verifier refuses everything. */
const MAX_FEED_AGE_MS = 2_000;

/**
 * Issue 13 point 7 end to end: the built sessions service signs with EdDSA, and a second Nest
 * process (examples/offline-verifier, OfflineAccessTokenModule) accepts its tokens with only the
 * JWKS and the revocation feed, and refuses a revoked session within the bound.
 */
describe('a service that verifies access tokens offline', () => {
  let database: TestDatabase;
  const cachePrefix = testRedisPrefix('offline-verifier');
  const secret = `offline-verifier-${randomUUID()}`;
  const buildDir = path.join(REPO_ROOT, '.test-build', `offline-verifier-${process.pid}-${randomUUID().slice(0, 8)}`);
  let service: ServiceProcess | undefined;
  let verifier: ChildProcess | undefined;
  let verifierUrl: string;
  let verifierOutput = '';

  beforeAll(async () => {
    database = await createTestDatabase();
    const { privateKey } = generateKeyPairSync('ed25519');
    service = await ServiceProcess.start({
      label: 'offline-verifier-issuer',
      apps: 'web',
      databaseUrl: database.url,
      redisUrl: TEST_REDIS_URL,
      cachePrefix,
      env: {
        ACCESS_TOKEN_SECRET: '',
        ACCESS_TOKEN_ALGORITHM: 'EdDSA',
        ACCESS_TOKEN_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        ACCESS_TOKEN_KEY_ID: 'offline-1',
        SERVICE_CLIENTS: `verifier:${createHash('sha256').update(secret).digest('hex')}`,
      },
    });
    // The example, built as `npm run example` builds the host app: its sources and the library's.
    const swc = path.join(REPO_ROOT, 'node_modules', '.bin', 'swc');
    await exec(swc, ['examples/offline-verifier/src', 'libs/sessions/src', '-d', buildDir, '--config-file', '.swcrc', '-q', '--ignore', '**/*.spec.ts'], {
      cwd: REPO_ROOT,
      timeout: 90_000,
    });
    const port = await freePort();
    verifierUrl = `http://127.0.0.1:${port}`;
    verifier = spawn(process.execPath, [path.join(buildDir, 'examples', 'offline-verifier', 'src', 'main.js')], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        PORT: String(port),
        JWKS_URL: `${service.webUrl}/.well-known/jwks.json`,
        FEED_URL: `${service.webUrl}/revocations`,
        SERVICE_SECRET: secret,
        POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
        MAX_FEED_AGE_MS: String(MAX_FEED_AGE_MS),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    verifier.stdout!.on('data', (chunk: Buffer) => (verifierOutput += chunk.toString('utf8')));
    verifier.stderr!.on('data', (chunk: Buffer) => (verifierOutput += chunk.toString('utf8')));
    await expectEventually(
      async () => {
        expect(verifier!.exitCode).toBeNull();
        expect(verifierOutput).toContain('offline-verifier listening');
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }, 150_000);

  afterAll(async () => {
    verifier?.kill('SIGKILL');
    await service?.stop();
    await deleteRedisKeys(TEST_REDIS_URL, cachePrefix);
    await database?.drop();
    rmSync(buildDir, { recursive: true, force: true });
  });

  const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const whoami = (token: string) => fetch(`${verifierUrl}/whoami`, { headers: { Authorization: `Bearer ${token}` } });

  async function signIn(): Promise<{ accessToken: string; refreshToken: string; sessionId: string }> {
    const email = `offline-${randomUUID().slice(0, 8)}@example.com`;
    const password = 'correct horse battery';
    expect((await post(`${service!.webUrl}/auth/register`, { email, password })).status).toBe(201);
    const response = await post(`${service!.webUrl}/auth/login`, { email, password });
    expect(response.status).toBe(200);
    return (await response.json()) as { accessToken: string; refreshToken: string; sessionId: string };
  }

  it('accepts a live session’s token, refuses a forged or missing one, and refuses a revoked session within the poll interval plus one request', async () => {
    const [revoked, untouched] = [await signIn(), await signIn()];
    const accepted = await whoami(revoked.accessToken);
    expect(accepted.status).toBe(200);
    await expect(accepted.json()).resolves.toMatchObject({ sessionId: revoked.sessionId });
    expect((await fetch(`${verifierUrl}/whoami`)).status).toBe(401);
    const [header, payload] = revoked.accessToken.split('.');
    expect((await whoami(`${header}.${payload}.${'A'.repeat(86)}`)).status).toBe(401);
    // The service secret is no access token either.
    expect((await whoami(secret)).status).toBe(401);

    const logout = await post(`${service!.webUrl}/auth/logout`, { refreshToken: revoked.refreshToken });
    expect(logout.status).toBe(200);
    const answered = Date.now();
    let refusedAfterMs = -1;
    await expectEventually(
      async () => {
        expect((await whoami(revoked.accessToken)).status).toBe(401);
        refusedAfterMs = Date.now() - answered;
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    console.log(`revoked session refused by the offline verifier ${refusedAfterMs} ms after the logout answered (bound ${BOUND_MS} ms)`);
    expect(refusedAfterMs).toBeLessThanOrEqual(BOUND_MS);
    // Another session of the service is untouched, and the revoked one stays refused.
    expect((await whoami(untouched.accessToken)).status).toBe(200);
    expect((await whoami(revoked.accessToken)).status).toBe(401);
  });

  it('refuses every token with 503 once the feed cannot be read for longer than maxFeedAgeMs (fails closed), and not before', async () => {
    const live = await signIn();
    expect((await whoami(live.accessToken)).status).toBe(200);
    await service!.kill('SIGKILL');
    const killed = Date.now();
    // Within the allowed age the verifier still answers from its list.
    expect((await whoami(live.accessToken)).status).toBe(200);
    await expectEventually(async () => expect((await whoami(live.accessToken)).status).toBe(503), { timeoutMs: 10_000, intervalMs: 50 });
    expect(Date.now() - killed).toBeGreaterThanOrEqual(MAX_FEED_AGE_MS - POLL_INTERVAL_MS);
  });
});
