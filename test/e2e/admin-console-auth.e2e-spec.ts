import { bearer, login, register, signUp, uniqueEmail } from '../support/api';
import { AuditRow, sql } from '../support/sql';
import { SESSIONS_DEFAULTS } from '@app/sessions';
import { GENEROUS_RATE_LIMIT, startTestStack, type TestStack } from '../support/test-app';

const ADMIN = { email: uniqueEmail('console-admin'), password: 'admin password 1' };
const CONSOLE_TTL_SECONDS = 7_200;
/** The console's own origin in these requests: supertest's Host changes with its ephemeral port, so it is set. */
const HOST = 'console.test';
const OWN_ORIGIN = `http://${HOST}`;

interface ConsoleSignIn {
  readonly cookie: string;
  readonly setCookie: string;
  readonly csrfToken: string;
  readonly sessionId: string;
  readonly body: Record<string, unknown>;
}

describe('admin console sign-in', () => {
  let stack: TestStack;
  let adminToken: string;
  let adminUserId: string;

  beforeAll(async () => {
    stack = await startTestStack({
      label: 'console-auth-e2e',
      admin: ADMIN,
      sessions: { lifetimes: { ...SESSIONS_DEFAULTS.lifetimes, consoleSessionTtlSeconds: CONSOLE_TTL_SECONDS } },
      // One trusted hop (supertest's socket): X-Forwarded-Proto says whether the request came over HTTPS.
      settings: { http: { host: '127.0.0.1', bodyLimit: '16kb', trustProxy: 1 } },
    });
    const admin = await login(stack, ADMIN.email, ADMIN.password);
    adminToken = admin.accessToken;
    adminUserId = admin.userId;
  });

  afterAll(async () => {
    await stack?.close();
  });

  async function consoleLogin(email: string, password: string, proto: 'http' | 'https' = 'http'): Promise<ConsoleSignIn> {
    const response = await stack.adminHttp().post('/admin/auth/login').set('Host', HOST).set('X-Forwarded-Proto', proto).send({ email, password }).expect(200);
    const setCookie = ([] as string[]).concat(response.headers['set-cookie'] ?? [])[0];
    expect(setCookie).toBeDefined();
    return { cookie: setCookie.split(';')[0], setCookie, csrfToken: response.body.csrfToken, sessionId: response.body.sessionId, body: response.body };
  }

  /** A second administrator, signed in on the web API (a Bearer session that never reauthenticated). */
  async function anotherAdmin(): Promise<{ userId: string; email: string; password: string; accessToken: string; sessionId: string }> {
    const account = await register(stack, uniqueEmail('other-admin'), 'other admin password 1');
    await stack
      .adminHttp()
      .post(`/admin/users/${account.userId}/role`)
      .set(...bearer(adminToken))
      .send({ role: 'admin', reason: 'Second operator on call' })
      .expect(200);
    const signedIn = await login(stack, account.email, account.password);
    return { ...account, accessToken: signedIn.accessToken, sessionId: signedIn.sessionId };
  }

  async function auditCount(): Promise<number> {
    await stack.settleAudit();
    const [row] = await sql<{ n: string }>(stack.databaseUrl, 'SELECT count(*) AS n FROM audit_entries');
    return Number(row.n);
  }

  it('signs an administrator in with an HttpOnly, SameSite=Strict cookie for the console session’s lifetime, and no token in the body', async () => {
    const before = Date.now();
    const signIn = await consoleLogin(ADMIN.email, ADMIN.password);
    expect(signIn.setCookie).toMatch(/^sessions_console=[A-Za-z0-9_-]{43};/);
    const attributes = signIn.setCookie.split(';').map((part) => part.trim());
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/']));
    // What is left of the session's lifetime, in whole seconds.
    const maxAge = Number(attributes.find((part) => part.startsWith('Max-Age='))?.slice('Max-Age='.length));
    expect(maxAge).toBeGreaterThanOrEqual(CONSOLE_TTL_SECONDS - 2);
    expect(maxAge).toBeLessThanOrEqual(CONSOLE_TTL_SECONDS);
    expect(attributes).not.toContain('Secure');
    expect(signIn.body).toEqual({
      user: { id: adminUserId, email: ADMIN.email, role: 'admin' },
      sessionId: expect.any(String),
      expiresAt: expect.any(String),
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      reauthenticatedUntil: expect.any(String),
      accessTokenTtlSeconds: SESSIONS_DEFAULTS.lifetimes.accessTokenTtlSeconds,
    });
    // The cookie's credential appears nowhere but in Set-Cookie.
    expect(JSON.stringify(signIn.body)).not.toContain(signIn.cookie.split('=')[1]);
    const expiresAt = new Date(signIn.body.expiresAt as string).getTime();
    expect(expiresAt).toBeGreaterThanOrEqual(before + CONSOLE_TTL_SECONDS * 1000 - 1_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + CONSOLE_TTL_SECONDS * 1000);
    const [row] = await sql<{ kind: string; expires_at: Date; created_at: Date }>(
      stack.databaseUrl,
      'SELECT kind, expires_at, created_at FROM sessions WHERE id = $1',
      [signIn.sessionId],
    );
    expect(row.kind).toBe('console');
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBe(CONSOLE_TTL_SECONDS * 1000);
  });

  it('over HTTPS (a trusted proxy’s X-Forwarded-Proto) the cookie is Secure and named with the __Host- prefix', async () => {
    const signIn = await consoleLogin(ADMIN.email, ADMIN.password, 'https');
    expect(signIn.setCookie).toMatch(/^__Host-sessions_console=/);
    expect(signIn.setCookie.split(';').map((part) => part.trim())).toEqual(expect.arrayContaining(['Secure', 'HttpOnly', 'SameSite=Strict', 'Path=/']));
    expect(signIn.setCookie).not.toMatch(/Domain=/i);
    await stack.adminHttp().get('/admin/auth/session').set('X-Forwarded-Proto', 'https').set('Cookie', signIn.cookie).expect(200);
    // The unprefixed name is not read over HTTPS (it could have been planted over plain HTTP).
    const planted = signIn.cookie.replace('__Host-', '');
    await stack.adminHttp().get('/admin/auth/session').set('X-Forwarded-Proto', 'https').set('Cookie', planted).expect(401);
  });

  it('answers a non-administrator’s right password exactly as a wrong password, audits why, and does not count it as a guess', async () => {
    const user = await register(stack, uniqueEmail('not-admin'), 'user password 123');
    const wrong = await stack.adminHttp().post('/admin/auth/login').send({ email: user.email, password: 'not the password' }).expect(401);
    const right = await stack.adminHttp().post('/admin/auth/login').send({ email: user.email, password: user.password }).expect(401);
    expect(right.text).toBe(wrong.text);
    expect(right.headers['content-type']).toBe(wrong.headers['content-type']);
    expect(right.headers['set-cookie']).toBeUndefined();
    // The web API's login answers a refusal with the same body.
    const web = await stack.http().post('/auth/login').send({ email: user.email, password: 'not the password' }).expect(401);
    expect(JSON.parse(web.text)).toEqual({ ...JSON.parse(wrong.text), instance: '/auth/login' });
    await stack.settleAudit();
    const failures = await sql<AuditRow>(
      stack.databaseUrl,
      `SELECT * FROM audit_entries WHERE user_id = $1 AND action = 'user.login' AND outcome = 'failed' ORDER BY event_id`,
      [user.userId],
    );
    expect(failures.map((row) => [row.reason, (row.details as { purpose?: string }).purpose])).toEqual([
      ['invalid_credentials', 'console'],
      ['not_an_administrator', 'console'],
      ['invalid_credentials', undefined],
    ]);
    // Only the two wrong passwords were counted: the right one recorded no lock or delay details either way.
    expect(failures[1].details).toEqual({ purpose: 'console', userKnown: true });
    const sessions = await sql(stack.databaseUrl, 'SELECT id FROM sessions WHERE user_id = $1', [user.userId]);
    expect(sessions).toEqual([]);
  });

  it('authenticates admin routes with the cookie, refuses changes without the right CSRF token or from another origin, and changes nothing then', async () => {
    const signIn = await consoleLogin(ADMIN.email, ADMIN.password);
    const [victim] = await signUp(stack, 1, 'csrf-victim');
    const listed = await stack.adminHttp().get(`/admin/users/${victim.userId}/sessions`).set('Cookie', signIn.cookie).expect(200);
    expect(listed.body.sessions.map((s: { id: string }) => s.id)).toEqual([victim.sessionId]);

    const other = await consoleLogin(ADMIN.email, ADMIN.password);
    const entriesBefore = await auditCount();
    const revoke = () =>
      stack
        .adminHttp()
        .post(`/admin/sessions/${victim.sessionId}/revoke`)
        .set('Host', HOST)
        .set('Cookie', signIn.cookie)
        .send({ reason: 'Lost device reported' });
    const missing = await revoke().expect(403);
    expect(missing.body).toMatchObject({ status: 403, code: 'csrf_token_invalid' });
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    await expect(
      revoke()
        .set('X-CSRF-Token', 'x'.repeat(43))
        .then((r) => r.body.code),
    ).resolves.toBe('csrf_token_invalid');
    // Another console session's token is not this one's.
    await revoke().set('X-CSRF-Token', other.csrfToken).expect(403);
    // Another port of the same host is the same site: only the origin check and the token stop it.
    const crossOrigin = await revoke().set('Origin', 'http://console.test:3000').set('X-CSRF-Token', signIn.csrfToken).expect(403);
    expect(crossOrigin.body.code).toBe('cross_site_request');
    await revoke().set('Sec-Fetch-Site', 'cross-site').set('X-CSRF-Token', signIn.csrfToken).expect(403);
    expect(await auditCount()).toBe(entriesBefore);
    const still = await stack.adminHttp().get(`/admin/users/${victim.userId}/sessions`).set('Cookie', signIn.cookie).expect(200);
    expect(still.body.sessions).toHaveLength(1);

    await revoke().set('Origin', OWN_ORIGIN).set('Sec-Fetch-Site', 'same-origin').set('X-CSRF-Token', signIn.csrfToken).expect(200);
    await stack
      .http()
      .get('/auth/me')
      .set(...bearer(victim.accessToken))
      .expect(401);
    await stack.settleAudit();
    const rows = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE session_id = $1 AND action = 'session.revoke' ORDER BY event_id`, [
      victim.sessionId,
    ]);
    expect(rows.map((row) => [row.outcome, row.actor_type, row.actor_id])).toEqual([
      ['attempted', 'admin', adminUserId],
      ['succeeded', 'admin', adminUserId],
    ]);
  });

  it('GET /admin/auth/session answers the sign-in again, and 401 without a live console session', async () => {
    const signIn = await consoleLogin(ADMIN.email, ADMIN.password);
    const again = await stack.adminHttp().get('/admin/auth/session').set('Cookie', signIn.cookie).expect(200);
    expect(again.body).toEqual(signIn.body);
    await stack.adminHttp().get('/admin/auth/session').expect(401);
    await stack
      .adminHttp()
      .get('/admin/auth/session')
      .set('Cookie', 'sessions_console=' + 'A'.repeat(43))
      .expect(401);
    // A Bearer token is no console session.
    await stack
      .adminHttp()
      .get('/admin/auth/session')
      .set(...bearer(adminToken))
      .expect(401);
  });

  it('signs out: the session ends through the logout command (its triad in the audit trail), the cookie is cleared and no longer works', async () => {
    const signIn = await consoleLogin(ADMIN.email, ADMIN.password);
    await stack.adminHttp().post('/admin/auth/logout').set('Cookie', signIn.cookie).expect(403);
    const out = await stack.adminHttp().post('/admin/auth/logout').set('Cookie', signIn.cookie).set('X-CSRF-Token', signIn.csrfToken).expect(204);
    const cleared = ([] as string[]).concat(out.headers['set-cookie'] ?? [])[0];
    expect(cleared).toMatch(/^sessions_console=;/);
    expect(cleared).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);
    await stack.adminHttp().get('/admin/auth/session').set('Cookie', signIn.cookie).expect(401);
    await stack.adminHttp().get(`/admin/users/${adminUserId}/sessions`).set('Cookie', signIn.cookie).expect(401);
    await stack.settleAudit();
    const rows = await sql<AuditRow>(
      stack.databaseUrl,
      `SELECT * FROM audit_entries WHERE action = 'user.logout'
          AND correlation_id IN (SELECT correlation_id FROM audit_entries WHERE session_id = $1) ORDER BY event_id`,
      [signIn.sessionId],
    );
    expect(rows.map((row) => [row.outcome, row.actor_id])).toEqual([
      ['attempted', adminUserId],
      ['succeeded', adminUserId],
    ]);
  });

  it('is ended at once by an administrator’s revoke-all of its owner, like any session', async () => {
    const other = await anotherAdmin();
    const signIn = await consoleLogin(other.email, other.password);
    await stack.adminHttp().get('/admin/auth/session').set('Cookie', signIn.cookie).expect(200);
    // The console admin acts on another administrator: it reauthenticates first (see the step-up test).
    await stack
      .adminHttp()
      .post('/admin/auth/reauthenticate')
      .set(...bearer(adminToken))
      .send({ password: ADMIN.password })
      .expect(200);
    await stack
      .adminHttp()
      .post(`/admin/users/${other.userId}/sessions/revoke-all`)
      .set(...bearer(adminToken))
      .send({ reason: 'Operator laptop stolen' })
      .expect(200);
    await stack.adminHttp().get('/admin/auth/session').set('Cookie', signIn.cookie).expect(401);
  });

  it('never trades a console session’s credential for tokens on the web API', async () => {
    const signIn = await consoleLogin(ADMIN.email, ADMIN.password);
    const credential = signIn.cookie.split('=')[1];
    const refused = await stack.http().post('/auth/refresh').send({ refreshToken: credential }).expect(401);
    expect(refused.body.code).toBe('invalid_grant');
    // Refused, not ended: the console session goes on.
    await stack.adminHttp().get('/admin/auth/session').set('Cookie', signIn.cookie).expect(200);
    await stack.settleAudit();
    const [failed] = await sql<AuditRow>(
      stack.databaseUrl,
      `SELECT * FROM audit_entries WHERE session_id = $1 AND action = 'tokens.refresh' AND outcome = 'failed'`,
      [signIn.sessionId],
    );
    expect(failed.reason).toBe('console_session');
  });

  describe('step-up', () => {
    it('refuses an action on another administrator without a recent reauthentication, and allows it after', async () => {
      const other = await anotherAdmin();
      const acting = await anotherAdmin();
      const disable = () =>
        stack
          .adminHttp()
          .post(`/admin/users/${other.userId}/disable`)
          .set(...bearer(acting.accessToken))
          .send({ reason: 'Compromised operator account' });
      const refused = await disable().expect(403);
      expect(refused.body).toMatchObject({ code: 'reauthentication_required' });
      // Nothing was attempted: the target's session lives on.
      await stack
        .http()
        .get('/auth/me')
        .set(...bearer(other.accessToken))
        .expect(200);
      // The same goes for ending one of its sessions, its role, a password reset and enabling it.
      for (const attempt of [
        stack.adminHttp().post(`/admin/sessions/${other.sessionId}/revoke`),
        stack.adminHttp().post(`/admin/users/${other.userId}/role`).send({ role: 'user', reason: 'Demoted for now' }),
        stack.adminHttp().post(`/admin/users/${other.userId}/password-reset`),
        stack.adminHttp().post(`/admin/users/${other.userId}/enable`),
        stack.adminHttp().post(`/admin/users/${other.userId}/sessions/revoke-all`),
      ]) {
        const answer = await attempt.set(...bearer(acting.accessToken)).send({ reason: 'Compromised operator account' });
        expect([answer.status, answer.body.code]).toEqual([403, 'reauthentication_required']);
      }
      // An ordinary user needs none.
      const [user] = await signUp(stack, 1, 'plain');
      await stack
        .adminHttp()
        .post(`/admin/users/${user.userId}/sessions/revoke-all`)
        .set(...bearer(acting.accessToken))
        .send({ reason: 'Routine clean-up' })
        .expect(200);

      const wrong = await stack
        .adminHttp()
        .post('/admin/auth/reauthenticate')
        .set(...bearer(acting.accessToken))
        .send({ password: 'not my password' })
        .expect(401);
      expect(wrong.body.code).toBe('reauthentication_failed');
      await disable().expect(403);

      const before = Date.now();
      const reauthenticated = await stack
        .adminHttp()
        .post('/admin/auth/reauthenticate')
        .set(...bearer(acting.accessToken))
        .send({ password: acting.password })
        .expect(200);
      const until = new Date(reauthenticated.body.reauthenticatedUntil).getTime();
      expect(until).toBeGreaterThanOrEqual(before + 300_000 - 1_000);
      expect(until).toBeLessThanOrEqual(Date.now() + 300_000);
      await disable().expect(200);
      await stack
        .http()
        .get('/auth/me')
        .set(...bearer(other.accessToken))
        .expect(401);

      await stack.settleAudit();
      const rows = await sql<AuditRow>(
        stack.databaseUrl,
        `SELECT * FROM audit_entries WHERE session_id = $1 AND action = 'session.reauthenticate' ORDER BY event_id`,
        [acting.sessionId],
      );
      expect(rows.map((row) => [row.outcome, row.reason])).toEqual([
        ['attempted', null],
        ['failed', 'invalid_password'],
        ['attempted', null],
        ['succeeded', null],
      ]);
    });

    it('counts a wrong reauthentication password with failed logins: past the threshold the session is ended', async () => {
      const guarded = await startTestStack({
        label: 'console-reauth-lockout',
        admin: { email: uniqueEmail('lockout-admin'), password: 'admin password 1' },
        settings: { rateLimit: { ...GENEROUS_RATE_LIMIT, lockoutThreshold: 2 } },
      });
      try {
        const admin = await login(guarded, (guarded.runtime.settings.admin as { email: string }).email, 'admin password 1');
        for (let i = 0; i < 2; i += 1) {
          await guarded
            .adminHttp()
            .post('/admin/auth/reauthenticate')
            .set(...bearer(admin.accessToken))
            .send({ password: `guess ${i}` })
            .expect(401);
        }
        // The second guess engaged the lock: the session that guessed is over.
        await guarded
          .http()
          .get('/auth/me')
          .set(...bearer(admin.accessToken))
          .expect(401);
      } finally {
        await guarded.close();
      }
    });

    it('a console sign-in counts as a reauthentication', async () => {
      const other = await anotherAdmin();
      const signIn = await consoleLogin(ADMIN.email, ADMIN.password);
      await stack
        .adminHttp()
        .post(`/admin/users/${other.userId}/sessions/revoke-all`)
        .set('Cookie', signIn.cookie)
        .set('X-CSRF-Token', signIn.csrfToken)
        .send({ reason: 'Rotation of the on-call laptop' })
        .expect(200);
    });

    it('ends the sessions of several users at once only after a reauthentication, one audited revoke-all each', async () => {
      const acting = await anotherAdmin();
      const [a] = await signUp(stack, 1, 'bulk-a');
      const [b1, b2] = await signUp(stack, 2, 'bulk-b');
      const unknown = '0190a5d2-0000-7000-8000-0000000000ff';
      const bulk = (userIds: string[], extra: Record<string, unknown> = {}) =>
        stack
          .adminHttp()
          .post('/admin/users/sessions/revoke-all')
          .set(...bearer(acting.accessToken))
          .send({ userIds, reason: 'Credential stuffing wave', ...extra });
      const refused = await bulk([a.userId, b1.userId]).expect(403);
      expect(refused.body.code).toBe('reauthentication_required');
      await stack
        .http()
        .get('/auth/me')
        .set(...bearer(a.accessToken))
        .expect(200);
      for (const body of [[], [a.userId, a.userId], ['not-a-uuid'], Array.from({ length: 101 }, () => a.userId)]) {
        const invalid = await bulk(body).expect(400);
        expect(JSON.stringify(invalid.body)).toContain('userIds');
      }

      await stack
        .adminHttp()
        .post('/admin/auth/reauthenticate')
        .set(...bearer(acting.accessToken))
        .send({ password: acting.password })
        .expect(200);
      const done = await bulk([a.userId, b1.userId, unknown], { keepSessionId: b2.sessionId }).expect(200);
      expect(done.body).toMatchObject({
        results: [
          { userId: a.userId, found: true, revokedCount: 1, sessionIds: [a.sessionId] },
          { userId: b1.userId, found: true, revokedCount: 1, sessionIds: [b1.sessionId] },
          { userId: unknown, found: false, revokedCount: 0, sessionIds: [] },
        ],
        revokedCount: 2,
        sessionIds: [a.sessionId, b1.sessionId],
      });
      for (const [token, status] of [
        [a.accessToken, 401],
        [b1.accessToken, 401],
        [b2.accessToken, 200],
      ] as const) {
        await stack
          .http()
          .get('/auth/me')
          .set(...bearer(token))
          .expect(status);
      }
      await stack.settleAudit();
      const rows = await sql<AuditRow>(
        stack.databaseUrl,
        `SELECT * FROM audit_entries WHERE action = 'sessions.revoke_all' AND actor_id = $1 ORDER BY event_id`,
        [acting.userId],
      );
      expect(rows.map((row) => [row.user_id, row.outcome])).toEqual([
        [a.userId, 'attempted'],
        [a.userId, 'succeeded'],
        [b1.userId, 'attempted'],
        [b1.userId, 'succeeded'],
        [unknown, 'attempted'],
        [unknown, 'failed'],
      ]);
    });
  });

  it('limits console sign-ins per client IP, as the web API’s', async () => {
    const limited = await startTestStack({
      label: 'console-login-limit',
      settings: { rateLimit: { ...GENEROUS_RATE_LIMIT, perIp: 2 } },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        statuses.push((await limited.adminHttp().post('/admin/auth/login').send({ email: 'nobody@example.com', password: 'whatever' })).status);
      }
      expect(statuses).toEqual([401, 401, 429]);
    } finally {
      await limited.close();
    }
  });
});
