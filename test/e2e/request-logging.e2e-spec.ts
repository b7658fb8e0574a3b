import { randomUUID } from 'node:crypto';
import { bearer, signUp } from '../support/api';
import { expectEventually } from '../support/eventually';
import { startTestStack, type TestStack } from '../support/test-app';

/**
 * One JSON line per finished request, whoever answered it (a route, a guard, the body check, the
 * 404 handler), with the request id the answer carries; and that id in the audit entries of the
 * commands the request caused.
 */
describe('request lines and request ids', () => {
  const ADMIN = { email: `admin-${randomUUID().slice(0, 8)}@example.com`, password: 'a long admin passphrase' };
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      label: 'request-logging',
      admin: ADMIN,
      settings: {
        rateLimit: {
          windowSeconds: 60,
          perIp: 1_000,
          perAccount: 2,
          lockoutThreshold: 1_000,
          lockoutSeconds: 60,
          loginMaxDelaySeconds: 60,
          perUser: 1_000,
          perIpAuthenticated: 1_000,
        },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  /** The one request line with this request id (waits for it: the line is written when the response finishes). */
  const lineOf = (requestId: string) =>
    expectEventually(() => {
      const lines = stack.logs.requests().filter((line) => line.requestId === requestId);
      expect(lines).toHaveLength(1);
      return lines[0];
    });

  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('logs a 200 with its route, url, status, latency and the caller', async () => {
    const [ada] = await signUp(stack);
    const response = await stack
      .http()
      .get('/auth/me')
      .set(...bearer(ada.accessToken))
      .expect(200);
    const requestId = response.headers['x-request-id'];
    expect(requestId).toMatch(UUID);
    const line = await lineOf(requestId);
    expect(line).toEqual({
      level: 'info',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      pid: process.pid,
      hostname: expect.any(String),
      msg: 'request_completed',
      context: 'HTTP',
      requestId,
      method: 'GET',
      route: '/auth/me',
      url: '/auth/me',
      status: 200,
      ms: expect.any(Number),
      userId: ada.userId,
      sessionId: ada.sessionId,
    });
    expect(line.ms as number).toBeGreaterThanOrEqual(0);
  });

  it('logs a 401 at info, without a caller, and a 404 that reached no route', async () => {
    const refused = await stack
      .http()
      .get('/auth/me')
      .set(...bearer('not-a-token'))
      .expect(401);
    expect(await lineOf(refused.headers['x-request-id'])).toMatchObject({ level: 'info', method: 'GET', route: '/auth/me', status: 401 });
    expect(await lineOf(refused.headers['x-request-id'])).not.toHaveProperty('userId');

    const missing = await stack.http().get('/no/such/path?x=1').expect(404);
    const line = await lineOf(missing.headers['x-request-id']);
    expect(line).toMatchObject({ level: 'info', method: 'GET', url: '/no/such/path?x=1', status: 404 });
    expect(line).not.toHaveProperty('route');
  });

  it('logs requests refused before any route: a 415 and unparseable JSON, at warn', async () => {
    const unsupported = await stack.http().post('/auth/login').set('Content-Type', 'text/plain').send('hello').expect(415);
    expect(await lineOf(unsupported.headers['x-request-id'])).toMatchObject({ level: 'warn', method: 'POST', url: '/auth/login', status: 415 });
    const broken = await stack.http().post('/auth/login').set('Content-Type', 'application/json').send('{"email":').expect(400);
    expect(await lineOf(broken.headers['x-request-id'])).toMatchObject({ level: 'warn', method: 'POST', url: '/auth/login', status: 400 });
  });

  it('logs a 429 at warn', async () => {
    const body = { refreshToken: 'x'.repeat(43) };
    let limited: { status: number; headers: Record<string, string> } | undefined;
    for (let i = 0; i < 5 && !limited; i += 1) {
      const response = await stack.http().post('/auth/refresh').send(body);
      if (response.status === 429) limited = response;
    }
    expect(limited?.status).toBe(429);
    expect(await lineOf(limited!.headers['x-request-id'])).toMatchObject({ level: 'warn', route: '/auth/refresh', status: 429 });
  });

  it("keeps a valid X-Request-Id, returns it, logs it and records it in the audit entries of the admin's revoke-all", async () => {
    const [user] = await signUp(stack, 2, 'revoked');
    const admin = (await stack.http().post('/auth/login').send(ADMIN).expect(200)).body as { accessToken: string; sessionId: string };
    const adminMe = (
      await stack
        .http()
        .get('/auth/me')
        .set(...bearer(admin.accessToken))
        .expect(200)
    ).body as { userId: string };
    const requestId = `support-ticket:${randomUUID()}`;
    const revoked = await stack
      .adminHttp()
      .post(`/admin/users/${user.userId}/sessions/revoke-all`)
      .set(...bearer(admin.accessToken))
      .set('X-Request-Id', requestId)
      .send({ reason: 'Suspicious activity' })
      .expect(200);
    expect(revoked.headers['x-request-id']).toBe(requestId);
    expect(await lineOf(requestId)).toMatchObject({
      level: 'info',
      method: 'POST',
      route: '/admin/users/:userId/sessions/revoke-all',
      url: `/admin/users/${user.userId}/sessions/revoke-all`,
      status: 200,
      userId: adminMe.userId,
      sessionId: admin.sessionId,
    });

    await stack.settleAudit();
    const audit = await stack
      .adminHttp()
      .get(`/admin/audit?requestId=${encodeURIComponent(requestId)}`)
      .set(...bearer(admin.accessToken))
      .expect(200);
    const entries = audit.body.entries as Array<{ action: string; outcome: string; requestId: string; userId: string | null }>;
    expect(entries.map((entry) => [entry.action, entry.outcome]).sort()).toEqual([
      ['sessions.revoke_all', 'attempted'],
      ['sessions.revoke_all', 'succeeded'],
    ]);
    expect(entries.every((entry) => entry.requestId === requestId)).toBe(true);
    // Another request's entries carry their own id, not this one.
    const all = await stack
      .adminHttp()
      .get(`/admin/audit?userId=${user.userId}&limit=100`)
      .set(...bearer(admin.accessToken))
      .expect(200);
    const others = (all.body.entries as Array<{ action: string; requestId: string | null }>).filter((entry) => entry.action !== 'sessions.revoke_all');
    expect(others.length).toBeGreaterThan(0);
    expect(others.every((entry) => entry.requestId !== null && entry.requestId !== requestId)).toBe(true);
  });

  it.each([
    ['too long', 'x'.repeat(129)],
    ['with a space', 'two words'],
    ['with a quote', 'a"b'],
    ['empty', ''],
  ])('replaces an X-Request-Id %s with a new UUID, never echoing it', async (_label, given) => {
    const response = await stack.http().get('/health/live').set('X-Request-Id', given).expect(200);
    expect(response.headers['x-request-id']).toMatch(UUID);
    expect(response.headers['x-request-id']).not.toBe(given);
    await lineOf(response.headers['x-request-id']);
  });

  it('refuses an invalid requestId filter with a problem', async () => {
    const admin = (await stack.http().post('/auth/login').send(ADMIN).expect(200)).body as { accessToken: string };
    const response = await stack
      .adminHttp()
      .get('/admin/audit?requestId=bad%20id')
      .set(...bearer(admin.accessToken))
      .expect(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(response.body)).toContain('requestId must be 1 to 128 characters');
  });
});
