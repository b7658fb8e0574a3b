import { bearer, login, register, signUp, uniqueEmail } from '../support/api';
import { expectEventually } from '../support/eventually';
import { GENEROUS_RATE_LIMIT, startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(60_000);

const ADMIN = { email: uniqueEmail('admin'), password: 'admin password 1' };
const LOCKOUT_THRESHOLD = 2;
const WRONG = 'not the password';

/**
 * The overview's figures on a database of this file's own: read before and after the test's
 * actions, they must differ by exactly what those actions did.
 */
describe('admin console: the overview', () => {
  let stack: TestStack;
  let adminToken: string;

  const overview = async () => {
    await stack.settleAudit();
    return (
      await stack
        .adminHttp()
        .get('/admin/overview')
        .set(...bearer(adminToken))
        .expect(200)
    ).body;
  };

  beforeAll(async () => {
    stack = await startTestStack({
      label: 'admin-overview',
      admin: ADMIN,
      settings: { rateLimit: { ...GENEROUS_RATE_LIMIT, lockoutThreshold: LOCKOUT_THRESHOLD, lockoutSeconds: 300 } },
    });
    adminToken = (await login(stack, ADMIN.email, ADMIN.password)).accessToken;
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('counts live sessions, the last 24 h sign-ins, failures and revocations, and current lockouts, each by exactly what happened', async () => {
    const before = await overview();

    const [first, second] = await signUp(stack, 2, 'figures'); // 2 sign-ins, 2 live sessions
    await stack.http().post('/auth/login').send({ email: first.email, password: WRONG }).expect(401); // 1 failed
    await stack
      .http()
      .delete(`/auth/sessions/${first.sessionId}`)
      .set(...bearer(second.accessToken))
      .expect(200); // 1 revocation, 1 live session less
    const locked = await register(stack, uniqueEmail('locked-out'));
    for (let i = 0; i < LOCKOUT_THRESHOLD; i += 1) await stack.http().post('/auth/login').send({ email: locked.email, password: WRONG }).expect(401); // 2 failed, 1 lock
    const nobody = uniqueEmail('no-account');
    for (let i = 0; i < LOCKOUT_THRESHOLD; i += 1) await stack.http().post('/auth/login').send({ email: nobody, password: WRONG }).expect(401); // 2 failed, 1 lock

    const after = await overview();
    expect(after.activeSessions - before.activeSessions).toBe(1);
    expect(after.last24h.signIns - before.last24h.signIns).toBe(2);
    expect(after.last24h.failedSignIns - before.last24h.failedSignIns).toBe(1 + 2 * LOCKOUT_THRESHOLD);
    expect(after.last24h.revocations - before.last24h.revocations).toBe(1);
    expect(after.lockouts.current - before.lockouts.current).toBe(2);
    expect(after.lockouts.users).toEqual(
      expect.arrayContaining([
        { userId: locked.userId, email: locked.email, lockedUntil: expect.any(String) },
        { userId: null, email: nobody, lockedUntil: expect.any(String) },
      ]),
    );
    expect(Date.parse(after.generatedAt)).toBeGreaterThanOrEqual(Date.parse(before.generatedAt));

    // Reading the overview changes none of it.
    const again = await overview();
    expect({ ...again, generatedAt: null, database: null }).toEqual({ ...after, generatedAt: null, database: null });

    // An unlock ends a lockout; the figures say so.
    await stack
      .adminHttp()
      .post(`/admin/users/${locked.userId}/unlock`)
      .set(...bearer(adminToken))
      .send({ reason: 'overview test unlock' })
      .expect(204);
    const unlocked = await overview();
    expect(unlocked.lockouts.current).toBe(after.lockouts.current - 1);
    expect(unlocked.lockouts.users.map((user: { email: string }) => user.email)).not.toContain(locked.email);
  });

  it('reports the cache trusted once reconciled, and the database healthy with its latency', async () => {
    const body = await expectEventually(async () => {
      const current = await overview();
      expect(current.cache.trusted).toBe(true);
      return current;
    });
    expect(body.cache).toEqual({ trusted: true, state: 'trusted', queuedMarkers: 0 });
    expect(body.database).toEqual({ healthy: true, latencyMs: expect.any(Number) });
    expect(body.database.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('refuses non-admins (403)', async () => {
    const [user] = await signUp(stack, 1, 'not-admin');
    await stack.adminHttp().get('/admin/overview').expect(401);
    await stack
      .adminHttp()
      .get('/admin/overview')
      .set(...bearer(user.accessToken))
      .expect(403);
  });
});
