import net from 'node:net';
import { redisClientOf } from '../../libs/sessions/src/infrastructure/cache/cache-store-redis';
import { createClient } from '@keyv/redis';
import type { RateLimitSettings } from '@app/runtime';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import type { Cache } from 'cache-manager';
import type { Response } from 'supertest';
import { register, signUp, uniqueEmail } from '../support/api';
import { expectEventually } from '../support/eventually';
import { AuditRow, sql } from '../support/sql';
import { loginAttemptKeys } from '../../libs/sessions/src/infrastructure/cache/redis-login-attempts';
import { startTestStack, TEST_REDIS_URL, type TestStack } from '../support/test-app';

jest.setTimeout(60_000);

const LIMITS: RateLimitSettings = {
  windowSeconds: 60,
  perIp: 1_000,
  perAccount: 1_000,
  lockoutThreshold: 1_000,
  lockoutSeconds: 60,
  loginMaxDelaySeconds: 60,
  perUser: 1_000,
  perIpAuthenticated: 1_000,
};
const WRONG = 'not the password';

function expectTooManyRequests(response: Response, path: string, windowSeconds = LIMITS.windowSeconds): void {
  expect(response.status).toBe(429);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const retryAfter = Number(response.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(response.body).toEqual({
    type: 'about:blank',
    title: 'Too Many Requests',
    status: 429,
    detail: `Too many requests; try again in ${retryAfter} s`,
    instance: path,
  });
}

/** A well-formed refresh token that matches nothing. */
const unknownToken = (seed: string) => seed.repeat(43).slice(0, 43);

describe('rate limits per client IP', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'rate-limit-ip', settings: { rateLimit: { ...LIMITS, perIp: 3 } } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('answers 429 as problem+json with Retry-After past the limit, per route', async () => {
    for (let i = 0; i < 3; i += 1) {
      await stack
        .http()
        .post('/auth/login')
        .send({ email: uniqueEmail('ip'), password: WRONG })
        .expect(401);
    }
    expectTooManyRequests(
      await stack
        .http()
        .post('/auth/login')
        .send({ email: uniqueEmail('ip'), password: WRONG }),
      '/auth/login',
    );
    // Each route has its own budget.
    await register(stack);
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY says otherwise: a spoofed header does not reset the limit', async () => {
    expect(stack.runtime.settings.http.trustProxy).toBe(false);
    for (let i = 0; i < 3; i += 1) {
      await stack
        .http()
        .post('/auth/refresh')
        .set('X-Forwarded-For', `198.51.100.${i}`)
        .send({ refreshToken: unknownToken(String(i)) })
        .expect(401);
    }
    const spoofed = await stack
      .http()
      .post('/auth/refresh')
      .set('X-Forwarded-For', '203.0.113.77')
      .send({ refreshToken: unknownToken('x') });
    expectTooManyRequests(spoofed, '/auth/refresh');
  });

  it('limits logout too', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      statuses.push(
        (
          await stack
            .http()
            .post('/auth/logout')
            .set('Authorization', 'Bearer a.b.c')
            .send({ refreshToken: unknownToken(`l${i}`) })
        ).status,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe('rate limits per account, behind a trusted proxy', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      label: 'rate-limit-account',
      settings: {
        http: { host: '127.0.0.1', bodyLimit: '16kb', trustProxy: 'loopback' },
        rateLimit: { ...LIMITS, perIp: 3, perAccount: 3 },
      },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('limits login per client IP only: failures for one email from many addresses never answer 429 (issue 8 #6)', async () => {
    const email = uniqueEmail('target');
    const variants = [email, email.toUpperCase(), `  ${email} `, email, email];
    for (const [i, variant] of variants.entries()) {
      await stack
        .http()
        .post('/auth/login')
        .set('X-Forwarded-For', `198.51.100.${i + 1}`)
        .send({ email: variant, password: WRONG })
        .expect(401);
    }
    // The client IP comes from the trusted proxy's header: each address has its own budget.
    for (let i = 0; i < 3; i += 1) {
      await stack
        .http()
        .post('/auth/login')
        .set('X-Forwarded-For', '198.51.100.99')
        .send({ email: uniqueEmail('other'), password: WRONG })
        .expect(401);
    }
    expectTooManyRequests(await stack.http().post('/auth/login').set('X-Forwarded-For', '198.51.100.99').send({ email, password: WRONG }), '/auth/login');
  });

  it('counts one refresh token across client IPs', async () => {
    const [device] = await signUp(stack, 1, 'refresh');
    const token = unknownToken('r');
    for (let i = 0; i < 3; i += 1) {
      await stack
        .http()
        .post('/auth/refresh')
        .set('X-Forwarded-For', `192.0.2.${i + 1}`)
        .send({ refreshToken: token })
        .expect(401);
    }
    expectTooManyRequests(await stack.http().post('/auth/refresh').set('X-Forwarded-For', '192.0.2.50').send({ refreshToken: token }), '/auth/refresh');
    // Another token, from the same address, is another account.
    await stack.http().post('/auth/refresh').set('X-Forwarded-For', '192.0.2.50').send({ refreshToken: device.refreshToken }).expect(200);
  });

  it('counts registrations of one email across client IPs', async () => {
    const email = uniqueEmail('register');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      statuses.push(
        (
          await stack
            .http()
            .post('/auth/register')
            .set('X-Forwarded-For', `203.0.113.${i + 1}`)
            .send({ email, password: 'correct horse battery' })
        ).status,
      );
    }
    expect(statuses).toEqual([201, 409, 409, 429]);
  });

  it('still answers 400 for a body without the account field (the IP limit still counts it)', async () => {
    await stack.http().post('/auth/login').set('X-Forwarded-For', '203.0.113.200').send({ password: WRONG }).expect(400);
  });
});

describe('limits and lockout shared by two instances', () => {
  let first: TestStack;
  let second: TestStack;
  const settings = { rateLimit: { ...LIMITS, perAccount: 6, lockoutThreshold: 3 } };

  beforeAll(async () => {
    first = await startTestStack({ label: 'rate-limit-shared', settings });
    second = await startTestStack({ label: 'rate-limit-shared', settings, shareWith: first });
  });

  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('runs on one database and one Redis prefix', () => {
    expect(second.databaseUrl).toBe(first.databaseUrl);
    expect(second.cachePrefix).toBe(first.cachePrefix);
  });

  it('refuses on one instance what the other already counted', async () => {
    const refreshToken = unknownToken('s');
    for (const stack of [first, second, first, second, first, second]) {
      await stack.http().post('/auth/refresh').send({ refreshToken }).expect(401);
    }
    expectTooManyRequests(await first.http().post('/auth/refresh').send({ refreshToken }), '/auth/refresh');
    expectTooManyRequests(await second.http().post('/auth/refresh').send({ refreshToken }), '/auth/refresh');
  });

  describe('account lockout', () => {
    const failedLogins = (userId: string) =>
      sql<AuditRow>(first.databaseUrl, `SELECT * FROM audit_entries WHERE action = 'user.login' AND outcome = 'failed' AND user_id = $1 ORDER BY event_id`, [
        userId,
      ]);

    it('locks after the threshold of failures across instances, answers exactly like a wrong password, and audits when the lock engaged', async () => {
      const account = await register(first, uniqueEmail('locked'));
      const login = (stack: TestStack, password: string, email = account.email) => stack.http().post('/auth/login').send({ email, password });

      const wrongPassword = await login(first, WRONG);
      expect(wrongPassword.status).toBe(401);
      await login(second, WRONG).expect(401);
      const engaging = Date.now();
      await login(first, WRONG).expect(401); // the third failure engages the lock

      const whileLocked = await login(second, account.password);
      expect(whileLocked.status).toBe(401);
      expect(whileLocked.body).toEqual(wrongPassword.body);
      await login(first, account.password).expect(401);

      // The lock lives in Redis, where every instance sees it.
      const { locked } = loginAttemptKeys(first.cachePrefix, { email: account.email, network: '127.0.0.1' });
      await expect(redisPTTL(locked)).resolves.toBeGreaterThan(55_000);

      await first.settleAudit();
      await second.settleAudit();
      const failed = await failedLogins(account.userId);
      expect(failed.map((row) => row.reason)).toEqual([
        'invalid_credentials',
        'invalid_credentials',
        'invalid_credentials',
        'account_locked',
        'account_locked',
      ]);
      expect(failed[0].details).toEqual({ userKnown: true });
      expect(failed[2].details).toEqual({
        userKnown: true,
        failedAttempts: 3,
        lockedUntil: expect.any(String),
        emailFailures: 3,
        delayedUntil: expect.any(String),
      });
      const lockedUntil = Date.parse(failed[2].details.lockedUntil as string);
      expect(lockedUntil).toBeGreaterThanOrEqual(engaging + 59_000);
      expect(lockedUntil).toBeLessThanOrEqual(Date.now() + 60_000);
      // The lock's end is read back from Redis (now + remaining TTL), so it may differ by a millisecond or so.
      expect(failed[3].details).toEqual({ userKnown: true, lockedUntil: expect.any(String) });
      expect(Math.abs(Date.parse(failed[3].details.lockedUntil as string) - lockedUntil)).toBeLessThanOrEqual(1_000);
    });

    it('locks an unknown email the same way, so the answer never tells whether an account exists', async () => {
      const email = uniqueEmail('nobody');
      const userAgent = `lockout-${email}`;
      const answers: Response[] = [];
      for (let i = 0; i < 4; i += 1) {
        answers.push(await (i % 2 ? second : first).http().post('/auth/login').set('User-Agent', userAgent).send({ email, password: WRONG }));
      }
      expect(answers.map((r) => r.status)).toEqual([401, 401, 401, 401]);
      expect(new Set(answers.map((r) => JSON.stringify(r.body))).size).toBe(1);
      await first.settleAudit();
      await second.settleAudit();
      const failed = await sql<AuditRow>(
        first.databaseUrl,
        `SELECT * FROM audit_entries WHERE action = 'user.login' AND outcome = 'failed' AND user_agent = $1 ORDER BY event_id`,
        [userAgent],
      );
      expect(failed.map((row) => [row.user_id, row.reason, row.details.lockedUntil !== undefined])).toEqual([
        [null, 'invalid_credentials', false],
        [null, 'invalid_credentials', false],
        [null, 'invalid_credentials', true],
        [null, 'account_locked', true],
      ]);
    });

    it('resets the count on a successful login', async () => {
      const account = await register(second, uniqueEmail('reset'));
      const login = (stack: TestStack, password: string) => stack.http().post('/auth/login').send({ email: account.email, password });
      await login(first, WRONG).expect(401);
      await login(second, WRONG).expect(401);
      await login(first, account.password).expect(200);
      await login(second, WRONG).expect(401);
      await login(first, WRONG).expect(401);
      await login(second, account.password).expect(200);
      await first.settleAudit();
      await second.settleAudit();
      const failed = await failedLogins(account.userId);
      expect(failed.map((row) => row.reason)).toEqual(['invalid_credentials', 'invalid_credentials', 'invalid_credentials', 'invalid_credentials']);
      expect(failed.every((row) => row.details.lockedUntil === undefined)).toBe(true);
    });
  });
});

describe('when Redis becomes unreachable', () => {
  let proxy: CuttableProxy;
  let stack: TestStack;

  beforeAll(async () => {
    proxy = await CuttableProxy.start(new URL(TEST_REDIS_URL));
    stack = await startTestStack({
      label: 'rate-limit-redis-down',
      redisUrl: `redis://127.0.0.1:${proxy.port}`,
      settings: { rateLimit: { ...LIMITS, perIp: 4, lockoutThreshold: 2 } },
    });
  });

  afterAll(async () => {
    proxy?.restore();
    await stack?.close();
    await proxy?.close();
  });

  const redisReady = () => redisClientOf(stack.web.get<Cache>(CACHE_MANAGER))!.isReady;

  it('serves every limited route without a 500, keeps a per-instance limit and lockout, and goes back to Redis', async () => {
    const [device] = await signUp(stack, 1, 'down');
    proxy.cut();
    await expectEventually(() => expect(redisReady()).toBe(false), { timeoutMs: 5_000, intervalMs: 20 });

    const statuses: number[] = [];
    statuses.push(
      (
        await stack
          .http()
          .post('/auth/register')
          .send({ email: uniqueEmail('down'), password: 'correct horse battery' })
      ).status,
    );
    const refreshed = await stack.http().post('/auth/refresh').send({ refreshToken: device.refreshToken });
    statuses.push(refreshed.status);
    statuses.push((await stack.http().post('/auth/logout').send({ refreshToken: refreshed.body.refreshToken })).status);
    expect(statuses).toEqual([201, 200, 200]);

    // Counted in this process now: still limited, still locked out, never a 500.
    const logins: number[] = [];
    for (let i = 0; i < 5; i += 1)
      logins.push(
        (
          await stack
            .http()
            .post('/auth/login')
            .send({ email: device.email, password: i === 2 ? device.password : WRONG })
        ).status,
      );
    expect(logins).toEqual([401, 401, 401, 401, 429]);
    await stack.settleAudit();
    const [lockedAttempt] = await sql<AuditRow>(
      stack.databaseUrl,
      `SELECT * FROM audit_entries WHERE user_id = $1 AND action = 'user.login' AND outcome = 'failed' ORDER BY event_id OFFSET 2`,
      [device.userId],
    );
    expect(lockedAttempt.reason).toBe('account_locked');
    expect(stack.logs.lines.some((line) => line.includes('RedisThrottlerStorage') && line.includes('counted per instance'))).toBe(true);
    expect(stack.logs.lines.some((line) => line.includes('RedisLoginAttempts') && line.includes('counted per instance'))).toBe(true);

    proxy.restore();
    await expectEventually(() => expect(redisReady()).toBe(true), { timeoutMs: 10_000, intervalMs: 20 });
    await stack
      .http()
      .post('/auth/register')
      .send({ email: uniqueEmail('back'), password: 'correct horse battery' })
      .expect(201);
    expect(stack.logs.lines.some((line) => line.includes('RedisThrottlerStorage') && line.includes('Redis is back'))).toBe(true);
  });
});

async function redisPTTL(key: string): Promise<number> {
  const client = createClient({ url: TEST_REDIS_URL });
  await client.connect();
  try {
    return await client.pTTL(key);
  } finally {
    client.destroy();
  }
}

/** A TCP proxy to Redis that can drop every connection and refuse new ones, then recover. */
class CuttableProxy {
  private readonly sockets = new Set<net.Socket>();
  private cutOff = false;

  private constructor(
    private readonly server: net.Server,
    target: URL,
  ) {
    server.on('connection', (client) => {
      client.on('error', () => undefined);
      if (this.cutOff) {
        client.resetAndDestroy();
        return;
      }
      const upstream = net.connect(Number(target.port || 6379), target.hostname);
      upstream.on('error', () => undefined);
      this.sockets.add(client).add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('close', end);
      upstream.on('close', end);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  static async start(target: URL): Promise<CuttableProxy> {
    const server = net.createServer();
    const proxy = new CuttableProxy(server, target);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.cutOff = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
