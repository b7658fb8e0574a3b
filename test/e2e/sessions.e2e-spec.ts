import { testDatabaseClient } from '../support/sql';
import { bearer, login, meStatus, register, signUp, uniqueEmail } from '../support/api';
import { AuditRow, sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

const PROBLEM_JSON = /^application\/problem\+json/;

/** The rows a logout may write to, each table in a stable order. */
async function everythingALogoutCouldChange(url: string) {
  const [users, sessions, refreshTokens, markerOutbox, audit] = await Promise.all([
    sql(url, 'SELECT * FROM users ORDER BY id'),
    sql(url, 'SELECT * FROM sessions ORDER BY id'),
    sql(url, 'SELECT * FROM refresh_tokens ORDER BY id'),
    sql(url, 'SELECT * FROM cache_marker_outbox ORDER BY id'),
    sql<AuditRow>(url, 'SELECT * FROM audit_entries ORDER BY event_id'),
  ]);
  return { users, sessions, refreshTokens, markerOutbox, audit };
}

describe('web API: sign-in to revocation', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'sessions-e2e' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  describe('register and login', () => {
    it('registers once per email, case-insensitively', async () => {
      const email = uniqueEmail('Reg');
      const created = await stack.http().post('/auth/register').send({ email, password: 'long enough pw' }).expect(201);
      expect(created.body).toEqual({ userId: expect.any(String), email: email.toLowerCase() });
      const again = await stack.http().post('/auth/register').send({ email: email.toUpperCase(), password: 'another password' }).expect(409);
      expect(again.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(again.body).toMatchObject({ status: 409, title: expect.any(String), detail: expect.any(String) });
    });

    it('answers unknown email and wrong password with the same 401', async () => {
      const { email } = await register(stack);
      const wrong = await stack.http().post('/auth/login').send({ email, password: 'not the password' }).expect(401);
      const unknown = await stack
        .http()
        .post('/auth/login')
        .send({ email: uniqueEmail('nobody'), password: 'not the password' })
        .expect(401);
      expect(wrong.body).toEqual(unknown.body);
      expect(wrong.headers['content-type']).toMatch(PROBLEM_JSON);
    });

    it('returns a Bearer token pair and records IP and User-Agent on the session', async () => {
      const { email, password } = await register(stack);
      const response = await stack.http().post('/auth/login').set('User-Agent', 'Firefox/140').send({ email, password }).expect(200);
      expect(response.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        tokenType: 'Bearer',
        expiresIn: 900,
        sessionId: expect.any(String),
      });
      const list = await stack
        .http()
        .get('/auth/sessions')
        .set(...bearer(response.body.accessToken))
        .expect(200);
      expect(list.body.sessions).toEqual([
        expect.objectContaining({ id: response.body.sessionId, userAgent: 'Firefox/140', ipAddress: expect.stringMatching(/127\.0\.0\.1/), current: true }),
      ]);
    });
  });

  describe('refresh', () => {
    it('rotates: same session, new tokens, and the old refresh token stops working', async () => {
      const [device] = await signUp(stack);
      const refreshed = await stack.http().post('/auth/refresh').set('User-Agent', 'device-0').send({ refreshToken: device.refreshToken }).expect(200);
      expect(refreshed.body.sessionId).toBe(device.sessionId);
      expect(refreshed.body.refreshToken).not.toBe(device.refreshToken);
      expect(await meStatus(stack, refreshed.body.accessToken)).toBe(200);
      // Presented again by another client: that is reuse (see refresh-reuse.e2e-spec.ts).
      await stack.http().post('/auth/refresh').set('User-Agent', 'someone else').send({ refreshToken: device.refreshToken }).expect(401);
    });

    it('is refused for a revoked session, even with a token that was never used', async () => {
      const [phone, laptop] = await signUp(stack, 2);
      await stack
        .http()
        .delete(`/auth/sessions/${phone.sessionId}`)
        .set(...bearer(laptop.accessToken))
        .expect(200);
      const refused = await stack.http().post('/auth/refresh').send({ refreshToken: phone.refreshToken }).expect(401);
      expect(refused.headers['content-type']).toMatch(PROBLEM_JSON);
    });
  });

  describe('revocation takes effect at once', () => {
    it('logout ends the session: its access token and refresh token are refused right away', async () => {
      const [device] = await signUp(stack);
      expect(await meStatus(stack, device.accessToken)).toBe(200);
      await stack
        .http()
        .post('/auth/logout')
        .set(...bearer(device.accessToken))
        .send({ refreshToken: device.refreshToken })
        .expect(200);
      expect(await meStatus(stack, device.accessToken)).toBe(401);
      await stack.http().post('/auth/refresh').send({ refreshToken: device.refreshToken }).expect(401);
      await stack
        .http()
        .get('/auth/sessions')
        .set(...bearer(device.accessToken))
        .expect(401);
    });

    it('logout answers 204 for any well-formed token, and changes nothing for an unknown one', async () => {
      // A signed-in client sending a refresh token it mistyped, without its Bearer (a valid Bearer
      // would end its own session: see logout.e2e-spec.ts).
      const [caller, callersLaptop] = await signUp(stack, 2, 'caller');
      const [bystander] = await signUp(stack, 1, 'bystander');
      await stack.settleAudit();
      const before = await everythingALogoutCouldChange(stack.databaseUrl);

      await stack
        .http()
        .post('/auth/logout')
        .set('User-Agent', 'unknown-token-logout')
        .send({ refreshToken: 'A'.repeat(43) })
        .expect(200);
      await stack.settleAudit();
      const after = await everythingALogoutCouldChange(stack.databaseUrl);

      // Not one row of any user changed: no session ended, no refresh token revoked, no marker queued.
      expect(after.users).toEqual(before.users);
      expect(after.sessions).toEqual(before.sessions);
      expect(after.refreshTokens).toEqual(before.refreshTokens);
      expect(after.markerOutbox).toEqual(before.markerOutbox);
      const ours = after.sessions.filter((session) => [caller.userId, bystander.userId].includes(session.user_id as string));
      expect(ours.map((session) => [session.id, session.revoked_at])).toEqual(
        expect.arrayContaining([caller, callersLaptop, bystander].map((device) => [device.sessionId, null])),
      );
      expect(ours).toHaveLength(3);
      const theirTokens = after.refreshTokens.filter((token) => ours.some((session) => session.id === token.session_id));
      expect(theirTokens.filter((token) => token.revoked_at === null)).toHaveLength(3);

      // The audit trail gained exactly this logout's Attempted and Failed, and nothing else.
      const seen = new Set(before.audit.map((entry) => entry.event_id));
      const added = after.audit.filter((entry) => !seen.has(entry.event_id));
      expect(
        added.map(({ action, outcome, reason, user_id, actor_id, session_id, user_agent }) => ({
          action,
          outcome,
          reason,
          user_id,
          actor_id,
          session_id,
          user_agent,
        })),
      ).toEqual([
        { action: 'user.logout', outcome: 'attempted', reason: 'logout', user_id: null, actor_id: null, session_id: null, user_agent: 'unknown-token-logout' },
        {
          action: 'user.logout',
          outcome: 'failed',
          reason: 'token_not_found',
          user_id: null,
          actor_id: null,
          session_id: null,
          user_agent: 'unknown-token-logout',
        },
      ]);
      expect(added[1].correlation_id).toBe(added[0].correlation_id);
      expect(after.audit.length).toBe(before.audit.length + 2);

      // And every session still works, the caller's first.
      expect(await meStatus(stack, caller.accessToken)).toBe(200);
      expect(await meStatus(stack, callersLaptop.accessToken)).toBe(200);
      expect(await meStatus(stack, bystander.accessToken)).toBe(200);
      await stack.http().post('/auth/refresh').send({ refreshToken: caller.refreshToken }).expect(200);
    });

    it("logout with another user's refresh token never ends that user's session", async () => {
      const [alice] = await signUp(stack, 1, 'alice');
      const [bob] = await signUp(stack, 1, 'bob');
      await stack
        .http()
        .post('/auth/logout')
        .set(...bearer(bob.accessToken))
        .send({ refreshToken: alice.refreshToken })
        .expect(200);
      expect(await meStatus(stack, alice.accessToken)).toBe(200);
    });

    it('revoke-all refuses every access token of the user right away', async () => {
      const devices = await signUp(stack, 3);
      for (const device of devices) expect(await meStatus(stack, device.accessToken)).toBe(200);
      const response = await stack
        .http()
        .post('/auth/sessions/revoke-all')
        .set(...bearer(devices[0].accessToken))
        .send({})
        .expect(200);
      expect(response.body).toMatchObject({ revokedCount: 3, effectiveAt: expect.any(String), accessTokensValidUntil: expect.any(String) });
      expect([...response.body.sessionIds].sort()).toEqual(devices.map((d) => d.sessionId).sort());
      for (const device of devices) expect(await meStatus(stack, device.accessToken)).toBe(401);
    });

    it('revoke-all with keepCurrent leaves exactly the current session working', async () => {
      const devices = await signUp(stack, 3);
      const response = await stack
        .http()
        .post('/auth/sessions/revoke-all')
        .set(...bearer(devices[1].accessToken))
        .send({ keepCurrent: true })
        .expect(200);
      expect(response.body).toMatchObject({ revokedCount: 2, sessionIds: expect.arrayContaining([devices[0].sessionId, devices[2].sessionId]) });
      expect(await Promise.all(devices.map((d) => meStatus(stack, d.accessToken)))).toEqual([401, 200, 401]);
      const list = await stack
        .http()
        .get('/auth/sessions')
        .set(...bearer(devices[1].accessToken))
        .expect(200);
      expect(list.body.sessions.map((s: { id: string }) => s.id)).toEqual([devices[1].sessionId]);
      await stack.http().post('/auth/refresh').send({ refreshToken: devices[0].refreshToken }).expect(401);
      await stack.http().post('/auth/refresh').send({ refreshToken: devices[1].refreshToken }).expect(200);
    });

    it('ending one session refuses its access token right away and leaves the others', async () => {
      const [phone, laptop] = await signUp(stack, 2);
      await stack
        .http()
        .delete(`/auth/sessions/${phone.sessionId}`)
        .set(...bearer(laptop.accessToken))
        .expect(200);
      expect(await meStatus(stack, phone.accessToken)).toBe(401);
      expect(await meStatus(stack, laptop.accessToken)).toBe(200);
      await stack
        .http()
        .delete(`/auth/sessions/${phone.sessionId}`)
        .set(...bearer(laptop.accessToken))
        .expect(404);
    });

    it('a password change ends every other session and keeps the current one', async () => {
      const [current, other] = await signUp(stack, 2);
      await stack
        .http()
        .post('/auth/password')
        .set(...bearer(current.accessToken))
        .send({ currentPassword: 'wrong password', newPassword: 'a brand new secret' })
        .expect(403);
      expect(await meStatus(stack, other.accessToken)).toBe(200);
      await stack
        .http()
        .post('/auth/password')
        .set(...bearer(current.accessToken))
        .send({ currentPassword: current.password, newPassword: 'a brand new secret' })
        .expect(200);
      expect(await meStatus(stack, other.accessToken)).toBe(401);
      expect(await meStatus(stack, current.accessToken)).toBe(200);
      await stack.http().post('/auth/login').send({ email: current.email, password: current.password }).expect(401);
      await login(stack, current.email, 'a brand new secret');
    });
  });

  describe('one user cannot reach another user’s sessions', () => {
    it('cannot see or end them (404, and nothing changes)', async () => {
      const [alice] = await signUp(stack, 1, 'alice');
      const [bob] = await signUp(stack, 1, 'bob');
      const bobsList = await stack
        .http()
        .get('/auth/sessions')
        .set(...bearer(bob.accessToken))
        .expect(200);
      expect(bobsList.body.sessions.map((s: { id: string }) => s.id)).toEqual([bob.sessionId]);
      const refused = await stack
        .http()
        .delete(`/auth/sessions/${alice.sessionId}`)
        .set(...bearer(bob.accessToken))
        .expect(404);
      expect(refused.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(await meStatus(stack, alice.accessToken)).toBe(200);
    });
  });

  describe('bad input', () => {
    it.each([
      ['register without a body', '/auth/register', undefined],
      ['register with a bad email', '/auth/register', { email: 'not-an-email', password: 'long enough pw' }],
      ['register with a short password', '/auth/register', { email: uniqueEmail(), password: 'short' }],
      ['register with an unknown field', '/auth/register', { email: uniqueEmail(), password: 'long enough pw', role: 'admin' }],
      ['login with a number as password', '/auth/login', { email: uniqueEmail(), password: 12345678 }],
      ['refresh with a malformed token', '/auth/refresh', { refreshToken: 'not a token' }],
      ['logout with an array body', '/auth/logout', [1, 2, 3]],
    ])('%s gets a 400 problem+json naming the problem', async (_name, path, body) => {
      const response = await stack.http().post(path).send(body);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(response.body).toMatchObject({ status: 400, title: expect.any(String), detail: expect.any(String) });
    });

    it('malformed JSON gets a 400 problem+json', async () => {
      const response = await stack.http().post('/auth/login').set('Content-Type', 'application/json').send('{"email": ');
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    });

    it('a session id that is not a UUID gets a 400', async () => {
      const [device] = await signUp(stack);
      const response = await stack
        .http()
        .delete('/auth/sessions/12345')
        .set(...bearer(device.accessToken))
        .expect(400);
      expect(response.body.detail).toMatch(/sessionId.*not a UUID/);
    });

    it('a register rejected for bad input creates no user', async () => {
      const email = uniqueEmail('bad');
      await stack.http().post('/auth/register').send({ email, password: 'short' }).expect(400);
      const client = testDatabaseClient(stack.databaseUrl);
      await client.connect();
      try {
        const { rowCount } = await client.query('SELECT 1 FROM users WHERE email = $1', [email]);
        expect(rowCount).toBe(0);
      } finally {
        await client.end();
      }
    });

    it('a missing or malformed Authorization header gets a 401 with an RFC 6750 WWW-Authenticate', async () => {
      // No Bearer credentials at all: no error code (RFC 6750 §3.1); a Bearer token that fails: invalid_token.
      const noToken = 'Bearer realm="sessions"';
      const invalid = 'Bearer realm="sessions", error="invalid_token", error_description="The access token is invalid or expired, or its session has ended"';
      for (const [header, challenge] of [
        [undefined, noToken],
        ['Basic abc', noToken],
        ['Bearer', invalid],
        ['Bearer not.a.jwt!', invalid],
        ['bearer a.b.c', invalid],
      ] as const) {
        const call = stack.http().get('/auth/me');
        const response = await (header ? call.set('Authorization', header) : call);
        expect(response.status).toBe(401);
        expect({ header, challenge: response.headers['www-authenticate'] }).toEqual({ header, challenge });
        expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
        expect(response.body.code).toBe(challenge === invalid ? 'invalid_token' : undefined);
      }
    });
  });

  describe('health and docs', () => {
    it('reports database and cache', async () => {
      const response = await stack.http().get('/health').expect(200);
      expect(response.body).toMatchObject({ status: 'ok', details: { database: { status: 'up' }, cache: { status: 'up' } } });
    });

    it('serves OpenAPI on both apps', async () => {
      const web = await stack.http().get('/docs-json').expect(200);
      expect(Object.keys(web.body.paths)).toEqual(expect.arrayContaining(['/auth/login', '/auth/sessions/{sessionId}']));
      const admin = await stack.adminHttp().get('/docs-json').expect(200);
      expect(Object.keys(admin.body.paths)).toEqual(expect.arrayContaining(['/admin/audit']));
    });
  });
});
