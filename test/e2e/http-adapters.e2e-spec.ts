import {
  AccessTokenGuard,
  AdminGuard,
  type AuthenticatedRequest,
  type AuthenticatedSession,
  BootstrapAdmin,
  ClientContext,
  CurrentSession,
  SESSIONS_DEFAULTS,
  LoginUser,
  OptionalAccessTokenGuard,
  RegisterUser,
  type RequestContext,
  requestContext,
  RevocationReasons,
  RevokeAllUserSessions,
  Actors,
} from '@app/sessions';
import { CoreModule, type Runtime, startRuntime } from '@app/runtime';
import { Controller, DynamicModule, Get, INestApplication, Module, Req, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { capturingLogger, GENEROUS_RATE_LIMIT, TEST_REDIS_URL } from '../support/test-app';
import { createTestDatabase, deleteRedisKeys, type TestDatabase, testRedisPrefix } from '../support/test-database';

/**
 * The library's guards and decorators on a host of each HTTP adapter: a small Nest app of its
 * own (no Express-only middleware, no problem+json filter: Nest's own error answers), over the
 * shared runtime, real PostgreSQL and Redis.
 */
@Controller('probe')
class ProbeController {
  @Get('me')
  @UseGuards(AccessTokenGuard)
  me(@CurrentSession() session: AuthenticatedSession, @ClientContext() context: RequestContext) {
    return { session, context };
  }

  @Get('maybe')
  @UseGuards(OptionalAccessTokenGuard)
  maybe(@Req() request: AuthenticatedRequest) {
    return { authenticated: request.authenticated ?? null };
  }

  @Get('admin')
  @UseGuards(AccessTokenGuard, AdminGuard)
  admin(@CurrentSession() session: AuthenticatedSession) {
    return { admin: session.userId };
  }
}

@Module({})
class ProbeModule {
  static forRoot(runtime: Runtime): DynamicModule {
    return { module: ProbeModule, imports: [CoreModule.forRoot(runtime, { app: 'web' })], controllers: [ProbeController] };
  }
}

const ADAPTERS = ['express', 'fastify'] as const;
const NO_TOKEN_CHALLENGE = 'Bearer realm="sessions"';
const INVALID_TOKEN_CHALLENGE =
  'Bearer realm="sessions", error="invalid_token", error_description="The access token is invalid or expired, or its session has ended"';
const INSUFFICIENT_SCOPE_CHALLENGE = 'Bearer realm="sessions", error="insufficient_scope", error_description="This console is for administrators only"';
type Adapter = (typeof ADAPTERS)[number];
const PASSWORD = 'correct horse battery staple';
const AGENT = 'adapter-probe/1.0';

async function createProbeApp(runtime: Runtime, adapter: Adapter): Promise<INestApplication> {
  const module = ProbeModule.forRoot(runtime);
  const options = { logger: runtime.settings.logger };
  const app = adapter === 'fastify' ? await NestFactory.create(module, new FastifyAdapter(), options) : await NestFactory.create(module, options);
  await app.listen(0, '127.0.0.1');
  return app;
}

describe('guards and decorators on Express and Fastify hosts', () => {
  let database: TestDatabase;
  let runtime: Runtime;
  let cachePrefix: string;
  const apps = new Map<Adapter, INestApplication>();

  beforeAll(async () => {
    database = await createTestDatabase();
    cachePrefix = testRedisPrefix('http-adapters');
    runtime = await startRuntime({
      database: { url: database.url, poolSize: 5, statementTimeoutMs: 5_000 },
      cache: { redisUrl: TEST_REDIS_URL, store: 'keyv-redis' },
      sessions: {
        lifetimes: SESSIONS_DEFAULTS.lifetimes,
        accessTokenSecret: 'adapter-test-secret-that-is-long-enough-for-hs256',
        passwordHashing: { memoryCostKiB: 1024, timeCost: 1, parallelism: 1 },
        cacheKeyPrefix: cachePrefix,
        cacheTimeoutMs: 250,
      },
      http: { host: '127.0.0.1', bodyLimit: '16kb', trustProxy: false },
      rateLimit: GENEROUS_RATE_LIMIT,
      logger: capturingLogger().logger,
    });
    for (const adapter of ADAPTERS) apps.set(adapter, await createProbeApp(runtime, adapter));
    const bus = apps.get('express')!.get(CommandBus);
    await expect(bus.execute(new BootstrapAdmin('admin@adapters.example.com', PASSWORD))).resolves.toMatchObject({ kind: 'created' });
  });

  afterAll(async () => {
    await Promise.allSettled([...apps.values()].map((app) => app.close()));
    await runtime?.close();
    await database?.drop();
    if (cachePrefix) await deleteRedisKeys(TEST_REDIS_URL, cachePrefix);
  });

  describe.each(ADAPTERS)('on %s', (adapter) => {
    let app: INestApplication;
    let base: string;
    let bus: CommandBus;

    beforeAll(async () => {
      app = apps.get(adapter)!;
      base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      bus = app.get(CommandBus);
    });

    const get = (path: string, token?: string) =>
      fetch(`${base}${path}`, { headers: { 'user-agent': AGENT, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) } });

    /** A new user signed in through the command bus, as a host's own feature module would. */
    async function signIn(label: string): Promise<{ userId: string; sessionId: string; accessToken: string }> {
      const email = `${label}-${adapter}-${Date.now()}@adapters.example.com`;
      const context = requestContext('127.0.0.1', AGENT);
      const registered = await bus.execute(new RegisterUser(email, PASSWORD, context));
      if (registered.kind !== 'registered') throw new Error(`register: ${registered.reason}`);
      return signInAs(email);
    }

    async function signInAs(email: string) {
      const outcome = await bus.execute(new LoginUser(email, PASSWORD, requestContext('127.0.0.1', AGENT)));
      if (outcome.kind !== 'authenticated') throw new Error(`login: ${outcome.reason}`);
      return { userId: outcome.userId, sessionId: outcome.sessionId, accessToken: outcome.accessToken };
    }

    it('answers 401 with an RFC 6750 challenge: no error code without a token, invalid_token with a malformed or badly signed one', async () => {
      const { accessToken } = await signIn('anon');
      const [header, payload] = accessToken.split('.');
      const cases = [
        { token: undefined, challenge: NO_TOKEN_CHALLENGE, code: undefined },
        { token: 'not-a-jwt', challenge: INVALID_TOKEN_CHALLENGE, code: 'invalid_token' },
        { token: `${header}.${payload}.${'A'.repeat(43)}`, challenge: INVALID_TOKEN_CHALLENGE, code: 'invalid_token' },
      ];
      for (const { token, challenge, code } of cases) {
        const response = await get('/probe/me', token);
        const body = (await response.json()) as { code?: string };
        expect({ token, status: response.status, challenge: response.headers.get('www-authenticate'), code: body.code }).toEqual({
          token,
          status: 401,
          challenge,
          code,
        });
      }
    });

    it('lets a valid token through, with CurrentSession and ClientContext read from this request', async () => {
      const user = await signIn('valid');
      const response = await get('/probe/me', user.accessToken);
      expect(response.status).toBe(200);
      expect(response.headers.get('www-authenticate')).toBeNull();
      await expect(response.json()).resolves.toEqual({
        session: { userId: user.userId, sessionId: user.sessionId },
        context: { ipAddress: '127.0.0.1', userAgent: AGENT, requestId: null },
      });
    });

    it('attaches the session with OptionalAccessTokenGuard when the token is valid, and refuses nothing', async () => {
      const user = await signIn('optional');
      await expect((await get('/probe/maybe', user.accessToken)).json()).resolves.toEqual({
        authenticated: { userId: user.userId, sessionId: user.sessionId },
      });
      const anonymous = await get('/probe/maybe');
      expect(anonymous.status).toBe(200);
      await expect(anonymous.json()).resolves.toEqual({ authenticated: null });
      await expect((await get('/probe/maybe', 'x.y.z')).json()).resolves.toEqual({ authenticated: null });
    });

    it('refuses the token at once after RevokeAllUserSessions', async () => {
      const user = await signIn('revoked');
      expect((await get('/probe/me', user.accessToken)).status).toBe(200); // cached "active" now
      const outcome = await bus.execute(
        new RevokeAllUserSessions(user.userId, RevocationReasons.userRevokedAll, Actors.user(user.userId), requestContext('127.0.0.1', AGENT)),
      );
      expect(outcome).toMatchObject({ kind: 'revoked', revokedCount: 1 });
      const response = await get('/probe/me', user.accessToken);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(INVALID_TOKEN_CHALLENGE);
    });

    it('AdminGuard: 403 for a non-admin, 401 without a token, 200 for the admin', async () => {
      const user = await signIn('non-admin');
      const refused = await get('/probe/admin', user.accessToken);
      expect(refused.status).toBe(403);
      expect(refused.headers.get('www-authenticate')).toBe(INSUFFICIENT_SCOPE_CHALLENGE);
      await expect(refused.json()).resolves.toMatchObject({ code: 'insufficient_scope' });
      const anonymous = await get('/probe/admin');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe(NO_TOKEN_CHALLENGE);
      const admin = await signInAs('admin@adapters.example.com');
      const response = await get('/probe/admin', admin.accessToken);
      expect(response.status).toBe(200);
      await expect(response.json()).resolves.toEqual({ admin: admin.userId });
    });
  });
});
