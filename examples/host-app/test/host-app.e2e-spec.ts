import { randomBytes } from 'node:crypto';
import { ConsoleLogger, INestApplication, LogLevel } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { expectEventually } from '../../../test/support/eventually';
import { createTestDatabase, deleteRedisKeys, testRedisPrefix, type TestDatabase } from '../../../test/support/test-database';
import { SignOutNotices } from '../src/accounts/sign-out-notices';
import { createHostApp } from '../src/host-app';
import { type HttpAdapterName } from '../src/host-config';

/**
 * The example host, booted as its main.ts boots it, on each HTTP adapter, against the real
 * PostgreSQL and Redis: its own module tree, the library wired in its README lines, its own
 * guarded routes, commands dispatched from its feature module, and its event handler.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Keeps the warnings and errors the host logs (and prints them with TEST_LOGS=1). */
class RecordingLogger extends ConsoleLogger {
  readonly lines: string[] = [];

  constructor() {
    super('host-app', { logLevels: ['fatal', 'error', 'warn'] });
  }

  protected override printMessages(messages: unknown[], context?: string, logLevel?: LogLevel): void {
    for (const message of messages) this.lines.push(`${logLevel} ${context} ${JSON.stringify(message)}`);
    if (process.env.TEST_LOGS === '1') super.printMessages(messages, context, logLevel);
  }
}

describe.each<HttpAdapterName>(['express', 'fastify'])('the example host on %s', (adapter) => {
  let database: TestDatabase;
  let cacheKeyPrefix: string;
  let app: INestApplication;
  const logs = new RecordingLogger();
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    database = await createTestDatabase();
    cacheKeyPrefix = testRedisPrefix(`host-app-${adapter}`);
    app = await createHostApp(
      { databaseUrl: database.url, redisUrl: REDIS_URL, accessTokenSecret: randomBytes(32).toString('base64url'), cacheKeyPrefix },
      adapter,
      logs,
    );
    await app.init();
    if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
    if (cacheKeyPrefix) await deleteRedisKeys(REDIS_URL, cacheKeyPrefix);
    // Closing the host must not cut off the library's audit writes (the DataSource is the host's).
    expect(logs.lines.filter((line) => /audit_write_failed|cqrs_unhandled_exception/.test(line))).toEqual([]);
  });

  async function registerAndSignIn(): Promise<{ userId: string; email: string; password: string; accessToken: string; refreshToken: string }> {
    const email = `host-${randomBytes(4).toString('hex')}@example.com`;
    const password = `${randomBytes(12).toString('base64url')}-host`;
    const registered = await http().post('/accounts').send({ email, password }).expect(201);
    const signedIn = await http().post('/accounts/sign-in').send({ email, password }).expect(200);
    return { userId: registered.body.userId, email, password, ...signedIn.body };
  }

  it('registers, signs in, serves its guarded route, refuses the token at once after signing out everywhere, and tells the user', async () => {
    const user = await registerAndSignIn();
    const other = await http().post('/accounts/sign-in').send({ email: user.email, password: user.password }).expect(200);

    const me = await http().get('/accounts/me').auth(user.accessToken, { type: 'bearer' }).expect(200);
    expect(me.body).toEqual({ userId: user.userId, sessionId: expect.any(String) });

    const revoked = await http().post('/accounts/me/sign-out-everywhere').auth(user.accessToken, { type: 'bearer' }).expect(200);
    expect(revoked.body).toEqual({ revokedCount: 2 });

    // No waiting: once the command answered, both sessions' tokens are refused.
    for (const token of [user.accessToken, other.body.accessToken]) {
      const refused = await http().get('/accounts/me').auth(token, { type: 'bearer' }).expect(401);
      expect(refused.headers['www-authenticate']).toMatch(/^Bearer realm="sessions", error="invalid_token", error_description="[^"]+"$/);
    }
    await expectEventually(() => expect(app.get(SignOutNotices).for(user.userId)).toEqual([{ userId: user.userId, revokedCount: 2, at: expect.any(Date) }]));
  });

  it('signs one session out with LogoutUser: its token is refused, the other session still works', async () => {
    const user = await registerAndSignIn();
    const other = await http().post('/accounts/sign-in').send({ email: user.email, password: user.password }).expect(200);

    await http().post('/accounts/me/sign-out').auth(user.accessToken, { type: 'bearer' }).send({ refreshToken: user.refreshToken }).expect(204);

    await http().get('/accounts/me').auth(user.accessToken, { type: 'bearer' }).expect(401);
    await http().get('/accounts/me').auth(other.body.accessToken, { type: 'bearer' }).expect(200);
    expect(app.get(SignOutNotices).for(user.userId)).toEqual([]);
  });

  it('answers 401 without a token or with a forged one, 409 for a taken email and 400 for bad input', async () => {
    const user = await registerAndSignIn();
    const missing = await http().get('/accounts/me').expect(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="sessions"');
    const [header, payload] = user.accessToken.split('.');
    await http()
      .get('/accounts/me')
      .auth(`${header}.${payload}.${randomBytes(32).toString('base64url')}`, { type: 'bearer' })
      .expect(401);

    await http().post('/accounts').send({ email: user.email, password: user.password }).expect(409);
    await http().post('/accounts').send({ email: user.email }).expect(400);
    await http().post('/accounts').send({ email: 'x@example.com', password: 'password' }).expect(400);
    await http().post('/accounts/sign-in').send({ email: user.email, password: 'not the password' }).expect(401);

    // The library refuses a malformed refresh token (InvalidCommandInput): the host's filter makes it a 400.
    const malformed = await http()
      .post('/accounts/me/sign-out')
      .auth(user.accessToken, { type: 'bearer' })
      .send({ refreshToken: 'not-a-refresh-token' })
      .expect(400);
    expect(malformed.body).toMatchObject({ statusCode: 400, field: 'refreshToken' });
    await http().get('/accounts/me').auth(user.accessToken, { type: 'bearer' }).expect(200);
  });
});
