import { createHmac, randomUUID } from 'node:crypto';
import { bearer, login, meStatus, signUp, type SignedIn, uniqueEmail } from '../support/api';
import { type AuditRow, sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

const ADMIN = { email: uniqueEmail('admin'), password: 'admin password 1' };
const PROBLEM_JSON = /^application\/problem\+json/;

/** What a client may compare between two answers: everything but the path it asked for. */
const comparable = (body: Record<string, unknown>) => ({ ...body, instance: undefined });

function signAccessToken(secret: string, sub: string, sid: string): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1_000);
  const input = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub, sid, iat: now, exp: now + 600 })}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

describe('access control', () => {
  let stack: TestStack;
  let admin: Awaited<ReturnType<typeof login>>;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'access-control-e2e', admin: ADMIN });
    admin = await login(stack, ADMIN.email, ADMIN.password);
  });

  afterAll(async () => {
    await stack?.close();
  });

  const activeSessionIds = async (userId: string) =>
    (await sql<{ id: string }>(stack.databaseUrl, 'SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id', [userId])).map((r) => r.id);
  const auditOf = async (userId: string) => {
    await stack.settleAudit();
    return sql<AuditRow>(stack.databaseUrl, 'SELECT * FROM audit_entries WHERE user_id = $1 OR actor_id = $1 ORDER BY event_id', [userId]);
  };
  const ids = (devices: readonly SignedIn[]) => devices.map((d) => d.sessionId).sort();

  describe("one user and another's sessions", () => {
    let a: SignedIn[];
    let b: SignedIn[];

    beforeEach(async () => {
      a = await signUp(stack, 2, 'alice');
      b = await signUp(stack, 3, 'bob');
    });

    it("lists only the caller's own sessions", async () => {
      const listed = await stack
        .http()
        .get('/auth/sessions')
        .set(...bearer(b[0].accessToken))
        .expect(200);
      expect(listed.body.sessions.map((s: { id: string }) => s.id).sort()).toEqual(ids(b));
    });

    it("answers DELETE of another user's session exactly as for a session that does not exist, and ends nothing", async () => {
      const theirs = await stack
        .http()
        .delete(`/auth/sessions/${a[0].sessionId}`)
        .set(...bearer(b[0].accessToken))
        .expect(404);
      const nobodys = await stack
        .http()
        .delete(`/auth/sessions/${randomUUID()}`)
        .set(...bearer(b[0].accessToken))
        .expect(404);
      expect(theirs.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(comparable(theirs.body)).toEqual(comparable(nobodys.body));

      for (const device of a) expect(await meStatus(stack, device.accessToken)).toBe(200);
      expect(await activeSessionIds(a[0].userId)).toEqual(ids(a));
      const failed = (await auditOf(b[0].userId)).filter((e) => e.action === 'session.revoke' && e.outcome === 'failed');
      expect(failed.map((e) => [e.actor_id, e.reason])).toEqual([
        [b[0].userId, 'session_not_found'],
        [b[0].userId, 'session_not_found'],
      ]);
      expect((await auditOf(a[0].userId)).filter((e) => e.action === 'session.revoke')).toEqual([]);
    });

    it("revoke-all, with and without keepCurrent, ends and counts only the caller's sessions", async () => {
      const keeping = await stack
        .http()
        .post('/auth/sessions/revoke-all')
        .set(...bearer(b[0].accessToken))
        .send({ keepCurrent: true })
        .expect(200);
      expect(keeping.body).toMatchObject({ revokedCount: 2 });
      expect(await activeSessionIds(b[0].userId)).toEqual([b[0].sessionId]);
      const all = await stack
        .http()
        .post('/auth/sessions/revoke-all')
        .set(...bearer(b[0].accessToken))
        .send({})
        .expect(200);
      expect(all.body).toMatchObject({ revokedCount: 1 });

      expect(await activeSessionIds(a[0].userId)).toEqual(ids(a));
      for (const device of a) expect(await meStatus(stack, device.accessToken)).toBe(200);
    });

    it("logout with another user's refresh token ends only the caller's own session (its Bearer), audited with the mismatch", async () => {
      const caller = await login(stack, b[0].email, b[0].password, 'mismatch-device');
      await stack
        .http()
        .post('/auth/logout')
        .set(...bearer(caller.accessToken))
        .set('User-Agent', 'mismatch-agent')
        .send({ refreshToken: a[0].refreshToken })
        .expect(200);

      expect(await meStatus(stack, a[0].accessToken)).toBe(200);
      expect(await activeSessionIds(a[0].userId)).toEqual(ids(a));
      // The refresh token still works for its owner.
      await stack.http().post('/auth/refresh').send({ refreshToken: a[0].refreshToken }).expect(200);
      // A valid Bearer on logout ends its own session; the caller's other sessions live on.
      expect(await meStatus(stack, caller.accessToken)).toBe(401);
      expect(await meStatus(stack, b[0].accessToken)).toBe(200);
      await stack.settleAudit();
      const [attempted, outcome] = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE user_agent = 'mismatch-agent' ORDER BY event_id`);
      expect([attempted.outcome, outcome.outcome, outcome.actor_id, outcome.user_id, outcome.session_id]).toEqual([
        'attempted',
        'succeeded',
        b[0].userId,
        b[0].userId,
        caller.sessionId,
      ]);
      expect(outcome.details).toMatchObject({ refreshTokenRefused: 'token_user_mismatch' });
    });

    it("changing the password ends the caller's other sessions and touches no other account", async () => {
      const [aliceBefore] = await sql<{ password_hash: string }>(stack.databaseUrl, 'SELECT password_hash FROM users WHERE id = $1', [a[0].userId]);
      await stack
        .http()
        .post('/auth/password')
        .set(...bearer(b[0].accessToken))
        .send({ currentPassword: b[0].password, newPassword: 'a brand new password' })
        .expect(200);

      expect(await activeSessionIds(b[0].userId)).toEqual([b[0].sessionId]);
      expect(await activeSessionIds(a[0].userId)).toEqual(ids(a));
      for (const device of a) expect(await meStatus(stack, device.accessToken)).toBe(200);
      const [aliceAfter] = await sql<{ password_hash: string }>(stack.databaseUrl, 'SELECT password_hash FROM users WHERE id = $1', [a[0].userId]);
      expect(aliceAfter.password_hash).toBe(aliceBefore.password_hash);
      await stack.http().post('/auth/login').send({ email: a[0].email, password: a[0].password }).expect(200);
      await stack.http().post('/auth/login').send({ email: b[0].email, password: b[0].password }).expect(401);
    });

    it("refuses a validly signed token that pairs one user with another's session", async () => {
      const secret = stack.runtime.settings.sessions.accessTokenSecret;
      expect(await meStatus(stack, signAccessToken(secret, b[0].userId, a[0].sessionId))).toBe(401);
      expect(await meStatus(stack, signAccessToken(secret, admin.userId, b[0].sessionId))).toBe(401);
      // The pairing itself is what is refused: the genuine pairs pass.
      expect(await meStatus(stack, signAccessToken(secret, b[0].userId, b[0].sessionId))).toBe(200);
    });
  });

  describe('admin console', () => {
    /** Every admin route, about a user that exists and a session of theirs that is active. */
    const adminRoutes = (target: SignedIn) =>
      [
        ['GET', `/admin/users/${target.userId}/sessions`, undefined],
        ['POST', `/admin/users/${target.userId}/sessions/revoke-all`, { reason: 'Suspicious activity seen' }],
        ['DELETE', `/admin/sessions/${target.sessionId}`, { reason: 'Suspicious activity seen' }],
        ['GET', `/admin/audit?userId=${target.userId}`, undefined],
      ] as const;

    const call = (method: string, path: string, body: object | undefined, token?: string) => {
      const agent = stack.adminHttp();
      let test = method === 'GET' ? agent.get(path) : method === 'POST' ? agent.post(path) : agent.delete(path);
      if (token) test = test.set(...bearer(token));
      return body ? test.send(body) : test;
    };

    it('refuses a missing or invalid token (401) and a non-admin (403) on every route, and changes nothing', async () => {
      const [target, other] = await signUp(stack, 2, 'target');
      const [plain] = await signUp(stack, 1, 'plain');
      for (const [method, path, body] of adminRoutes(target)) {
        for (const token of [undefined, 'not.a.token', `${admin.accessToken}x`]) {
          const response = await call(method, path, body, token);
          expect([method, path, response.status]).toEqual([method, path, 401]);
          expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
        }
        // A user, even one acting on their own account, is not an administrator.
        for (const token of [plain.accessToken, target.accessToken]) {
          const response = await call(method, path, body, token);
          expect([method, path, response.status]).toEqual([method, path, 403]);
          expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
          expect(response.body).toMatchObject({ status: 403, title: 'Forbidden' });
        }
      }
      expect(await activeSessionIds(target.userId)).toEqual(ids([target, other]));
      expect((await auditOf(target.userId)).filter((e) => e.action !== 'user.register' && e.action !== 'user.login')).toEqual([]);
    });

    it('is not served by the web API', async () => {
      const [target] = await signUp(stack);
      for (const [method, path] of adminRoutes(target)) {
        const agent = stack.http();
        const test = method === 'GET' ? agent.get(path) : method === 'POST' ? agent.post(path) : agent.delete(path);
        const response = await test.set(...bearer(admin.accessToken));
        expect([method, path, response.status]).toEqual([method, path, 404]);
      }
    });

    it('records the administrator as the actor of every action, and keeps their own session alive', async () => {
      const victim = await signUp(stack, 3, 'victim');
      await stack
        .adminHttp()
        .get(`/admin/users/${victim[0].userId}/sessions`)
        .set(...bearer(admin.accessToken))
        .expect(200);
      await stack
        .adminHttp()
        .delete(`/admin/sessions/${victim[2].sessionId}`)
        .set(...bearer(admin.accessToken))
        .send({ reason: 'Lost phone reported' })
        .expect(200);
      const all = await stack
        .adminHttp()
        .post(`/admin/users/${victim[0].userId}/sessions/revoke-all`)
        .set(...bearer(admin.accessToken))
        .send({ reason: 'Account takeover suspected', keepSessionId: victim[0].sessionId })
        .expect(200);
      expect(all.body).toMatchObject({ revokedCount: 1, accessTokensValidUntil: expect.any(String) });

      expect(await meStatus(stack, admin.accessToken)).toBe(200);
      expect(await activeSessionIds(admin.userId)).toContain(admin.sessionId);
      expect(await activeSessionIds(victim[0].userId)).toEqual([victim[0].sessionId]);

      const revoked = await sql<{ id: string; revoked_by: string; revoked_reason: string }>(
        stack.databaseUrl,
        'SELECT id, revoked_by, revoked_reason FROM sessions WHERE user_id = $1 AND revoked_at IS NOT NULL ORDER BY id',
        [victim[0].userId],
      );
      expect(revoked.sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual(
        [
          { id: victim[1].sessionId, revoked_by: admin.userId, revoked_reason: 'Account takeover suspected' },
          { id: victim[2].sessionId, revoked_by: admin.userId, revoked_reason: 'Lost phone reported' },
        ].sort((x, y) => (x.id < y.id ? -1 : 1)),
      );
      const actions = (await auditOf(victim[0].userId)).filter((e) => e.action === 'session.revoke' || e.action === 'sessions.revoke_all');
      expect(actions.map((e) => [e.action, e.outcome, e.actor_type, e.actor_id, e.reason])).toEqual([
        ['session.revoke', 'attempted', 'admin', admin.userId, 'Lost phone reported'],
        ['session.revoke', 'succeeded', 'admin', admin.userId, 'Lost phone reported'],
        ['sessions.revoke_all', 'attempted', 'admin', admin.userId, 'Account takeover suspected'],
        ['sessions.revoke_all', 'succeeded', 'admin', admin.userId, 'Account takeover suspected'],
      ]);
    });

    it('refuses a revoked admin session on every route while the other admin session keeps working', async () => {
      const [target] = await signUp(stack, 1, 'target');
      const first = await login(stack, ADMIN.email, ADMIN.password, 'admin-laptop');
      const second = await login(stack, ADMIN.email, ADMIN.password, 'admin-phone');
      await stack
        .adminHttp()
        .get('/admin/audit')
        .set(...bearer(first.accessToken))
        .expect(200);
      // Ended from the console itself, by the other session.
      await stack
        .adminHttp()
        .delete(`/admin/sessions/${first.sessionId}`)
        .set(...bearer(second.accessToken))
        .send({ reason: 'Laptop stolen' })
        .expect(200);

      for (const [method, path, body] of adminRoutes(target)) {
        const response = await call(method, path, body, first.accessToken);
        expect([method, path, response.status]).toEqual([method, path, 401]);
      }
      expect(await meStatus(stack, first.accessToken)).toBe(401);
      await stack
        .adminHttp()
        .get(`/admin/users/${target.userId}/sessions`)
        .set(...bearer(second.accessToken))
        .expect(200);
      expect(await activeSessionIds(target.userId)).toEqual([target.sessionId]);
    });

    it('reads the role on every request: an administrator demoted in the database is refused at once', async () => {
      const [temp] = await signUp(stack, 1, 'temp-admin');
      await sql(stack.databaseUrl, `UPDATE users SET role = 'admin' WHERE id = $1`, [temp.userId]);
      await stack
        .adminHttp()
        .get('/admin/audit')
        .set(...bearer(temp.accessToken))
        .expect(200);
      await sql(stack.databaseUrl, `UPDATE users SET role = 'user' WHERE id = $1`, [temp.userId]);
      await stack
        .adminHttp()
        .get('/admin/audit')
        .set(...bearer(temp.accessToken))
        .expect(403);
    });
  });
});
