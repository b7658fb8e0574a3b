import { SESSION_LIMIT_REACHED_TYPE } from '@app/runtime';
import type { NewSession } from '../../libs/sessions/src/application/ports/session-records.port';
import { type Transaction, UNIT_OF_WORK, type UnitOfWork } from '../../libs/sessions/src/application/ports/unit-of-work.port';
import { bearer, login, meStatus, register, signUp } from '../support/api';
import { AuditRow, brokenTriads, sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(120_000);

const CAP = 3;
const CONCURRENT_LOGINS = 10;

const refresh = (stack: TestStack, refreshToken: string) => stack.http().post('/auth/refresh').send({ refreshToken });
const loginRequest = (stack: TestStack, email: string, password: string) => stack.http().post('/auth/login').send({ email, password });

async function sessionsOf(stack: TestStack, userId: string) {
  return sql<{ id: string; kind: string; revoked_at: Date | null; revoked_reason: string | null; revoked_by: string | null }>(
    stack.databaseUrl,
    'SELECT id, kind, revoked_at, revoked_reason, revoked_by FROM sessions WHERE user_id = $1 ORDER BY created_at, id',
    [userId],
  );
}

const liveIds = async (stack: TestStack, userId: string) =>
  (await sessionsOf(stack, userId)).filter((s) => s.revoked_at === null && s.kind === 'app').map((s) => s.id);

/** SESSION_MAX_PER_USER=3 with each policy, against the shared PostgreSQL and Redis. */
describe('the concurrent-session cap', () => {
  describe('evict_oldest', () => {
    let stack: TestStack;
    /** Set by a test: the next session insert throws (after the eviction, in the login's transaction). */
    let failNextInsert = false;

    beforeAll(async () => {
      stack = await startTestStack({ label: 'cap-evict', sessions: { sessionLimit: { maxPerUser: CAP, policy: 'evict_oldest' } } });
      // A seam in the store's transactions, as in password-change-race.e2e-spec.ts.
      const unitOfWork = stack.web.get<UnitOfWork>(UNIT_OF_WORK);
      const inTransaction = unitOfWork.inTransaction.bind(unitOfWork);
      const seam = (tx: Transaction): Transaction =>
        new Proxy(tx, {
          get(target, property) {
            if (property === 'sessions')
              return new Proxy(target.sessions, {
                get(sessions, name) {
                  if (name === 'insert')
                    return async (session: NewSession) => {
                      if (failNextInsert) {
                        failNextInsert = false;
                        throw new Error('insert failed on purpose');
                      }
                      return sessions.insert(session);
                    };
                  const value = Reflect.get(sessions, name) as unknown;
                  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(sessions) : value;
                },
              });
            const value = Reflect.get(target, property) as unknown;
            return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          },
        });
      unitOfWork.inTransaction = (work) => inTransaction((tx) => work(seam(tx)));
    });

    afterAll(async () => {
      await stack?.close();
    });

    it('a 4th login ends the oldest session at once (access and refresh token), as an audited revocation', async () => {
      const devices = await signUp(stack, CAP, 'cap-evict');
      const [oldest] = devices;
      const { userId, email, password } = oldest;
      for (const device of devices) expect(await meStatus(stack, device.accessToken)).toBe(200);

      const fourth = await loginRequest(stack, email, password).expect(200);
      // Refused at once: the revocation marker was written before the login answered.
      expect(await meStatus(stack, oldest.accessToken)).toBe(401);
      await refresh(stack, oldest.refreshToken).expect(401);
      for (const device of devices.slice(1)) expect(await meStatus(stack, device.accessToken)).toBe(200);
      expect(await meStatus(stack, fourth.body.accessToken)).toBe(200);
      expect((await liveIds(stack, userId)).sort()).toEqual([...devices.slice(1).map((d) => d.sessionId), fourth.body.sessionId].sort());
      expect((await sessionsOf(stack, userId))[0]).toMatchObject({ id: oldest.sessionId, revoked_reason: 'session_limit_evicted', revoked_by: null });

      await stack.settleAudit();
      const eviction = await sql<AuditRow>(
        stack.databaseUrl,
        `SELECT * FROM audit_entries WHERE action = 'session.revoke' AND user_id = $1 ORDER BY event_id`,
        [userId],
      );
      expect(eviction.map((e) => [e.outcome, e.reason, e.actor_type, e.session_id])).toEqual([
        ['attempted', 'session_limit_evicted', 'system', oldest.sessionId],
        ['succeeded', 'session_limit_evicted', 'system', oldest.sessionId],
      ]);
      const [loginSucceeded] = await sql<AuditRow>(
        stack.databaseUrl,
        `SELECT * FROM audit_entries WHERE action = 'user.login' AND outcome = 'succeeded' AND session_id = $1`,
        [fourth.body.sessionId],
      );
      expect(loginSucceeded.details).toMatchObject({ evictedSessionIds: [oldest.sessionId] });
      expect(eviction[1].details).toMatchObject({ loginCorrelationId: loginSucceeded.correlation_id, maxPerUser: CAP });
      expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
    });

    it('a login that fails after its eviction rolls the eviction back: the oldest session lives on, and the eviction is recorded Failed', async () => {
      const devices = await signUp(stack, CAP, 'cap-rollback');
      const { userId, email, password } = devices[0];
      failNextInsert = true;
      const failed = await loginRequest(stack, email, password);
      expect(failed.status).toBe(500);
      expect(await liveIds(stack, userId)).toEqual(devices.map((d) => d.sessionId));
      for (const device of devices) expect(await meStatus(stack, device.accessToken)).toBe(200);
      await refresh(stack, devices[0].refreshToken).expect(200);

      await stack.settleAudit();
      const eviction = await sql<AuditRow>(
        stack.databaseUrl,
        `SELECT * FROM audit_entries WHERE action = 'session.revoke' AND user_id = $1 ORDER BY event_id`,
        [userId],
      );
      expect(eviction.map((e) => [e.outcome, e.reason, e.session_id, e.details.rolledBack ?? null])).toEqual([
        ['attempted', 'session_limit_evicted', devices[0].sessionId, null],
        ['failed', 'internal_error', devices[0].sessionId, true],
      ]);
      // The login's own entries (its Attempted knew no user yet): the Failed one says internal_error.
      const loginOutcomes = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE correlation_id = $1 ORDER BY event_id`, [
        eviction[0].details.loginCorrelationId,
      ]);
      expect(loginOutcomes.map((e) => [e.action, e.outcome, e.reason])).toEqual([
        ['user.login', 'attempted', null],
        ['user.login', 'failed', 'internal_error'],
      ]);
      expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
    });

    it(`${CONCURRENT_LOGINS} concurrent logins of one user leave exactly the cap live: the ${CAP} that committed last`, async () => {
      const { userId, email, password } = await register(stack);
      const answers = await Promise.all(Array.from({ length: CONCURRENT_LOGINS }, () => loginRequest(stack, email, password)));
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: CONCURRENT_LOGINS }, () => 200));

      const rows = await sessionsOf(stack, userId);
      expect(rows).toHaveLength(CONCURRENT_LOGINS);
      const live = rows.filter((s) => s.revoked_at === null);
      expect(live).toHaveLength(CAP);
      // Every login got its session, and each one not live now was evicted by the cap: no other end.
      expect(rows.map((s) => s.id).sort()).toEqual(answers.map((a) => a.body.sessionId as string).sort());
      expect(rows.filter((s) => s.revoked_at !== null).map((s) => s.revoked_reason)).toEqual(
        Array.from({ length: CONCURRENT_LOGINS - CAP }, () => 'session_limit_evicted'),
      );
      // The logins took turns: the live ones are the newest, and each login evicted at most one.
      expect(live.map((s) => s.id)).toEqual(rows.slice(-CAP).map((s) => s.id));
      for (const answer of answers) {
        const isLive = live.some((s) => s.id === answer.body.sessionId);
        expect(await meStatus(stack, answer.body.accessToken as string)).toBe(isLive ? 200 : 401);
      }

      await stack.settleAudit();
      const evictions = await sql<AuditRow>(
        stack.databaseUrl,
        `SELECT * FROM audit_entries WHERE action = 'session.revoke' AND user_id = $1 AND outcome = 'succeeded'`,
        [userId],
      );
      expect(evictions.map((e) => e.session_id).sort()).toEqual(
        rows
          .slice(0, -CAP)
          .map((s) => s.id)
          .sort(),
      );
      expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
    });

    it('capped logins racing a password change and logouts neither deadlock nor fail: every answer is a 2xx or the old password’s 401', async () => {
      const [current, ...others] = await signUp(stack, CAP, 'cap-race');
      const { userId, email, password } = current;
      const logins = Array.from({ length: CONCURRENT_LOGINS }, () => loginRequest(stack, email, password));
      const change = stack
        .http()
        .post('/auth/password')
        .set(...bearer(current.accessToken))
        .send({ currentPassword: password, newPassword: 'a new password for the race' });
      const logouts = others.map((device) => stack.http().post('/auth/logout').send({ refreshToken: device.refreshToken }));
      const answers = await Promise.all([change, ...logouts, ...logins]);
      expect(answers.filter((a) => a.status >= 500).map((a) => [a.status, a.body.detail])).toEqual([]);
      for (const answer of answers.slice(1 + logouts.length)) expect([200, 401]).toContain(answer.status);
      const live = await liveIds(stack, userId);
      // The changer's session is the oldest: a login before the change may evict it (the change
      // then answers 401), or the change ends every other session, those the logins opened before
      // it included, and the logins after it are refused. Never more than the cap either way.
      expect([200, 401]).toContain(answers[0].status);
      if (answers[0].status === 200) expect([[], [current.sessionId]]).toContainEqual(live);
      expect(live.length).toBeLessThanOrEqual(CAP);
      await stack.settleAudit();
      expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
    });
  });

  describe('deny_new', () => {
    let stack: TestStack;

    beforeAll(async () => {
      stack = await startTestStack({ label: 'cap-deny', sessions: { sessionLimit: { maxPerUser: CAP, policy: 'deny_new' } } });
    });

    afterAll(async () => {
      await stack?.close();
    });

    it('refuses a 4th login with its own problem type, creating and ending nothing; a wrong password still gets the 401', async () => {
      const devices = await signUp(stack, CAP, 'cap-deny');
      const { userId, email, password } = devices[0];
      const tokensBefore = await sql(stack.databaseUrl, 'SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = $1', [userId]);

      const refused = await loginRequest(stack, email, password).expect(409);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.body).toMatchObject({
        type: SESSION_LIMIT_REACHED_TYPE,
        title: 'Session limit reached',
        status: 409,
        code: 'session_limit_reached',
        maxSessions: CAP,
        instance: '/auth/login',
      });
      expect(refused.body).not.toHaveProperty('accessToken');
      // Only the right password reaches the cap: a wrong one is answered as ever.
      const wrong = await loginRequest(stack, email, 'not the password at all').expect(401);
      expect(wrong.body.type).toBe('about:blank');

      expect(await liveIds(stack, userId)).toEqual(devices.map((d) => d.sessionId));
      expect(await sessionsOf(stack, userId)).toHaveLength(CAP);
      expect(await sql(stack.databaseUrl, 'SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = $1', [userId])).toEqual(tokensBefore);
      for (const device of devices) expect(await meStatus(stack, device.accessToken)).toBe(200);

      await stack.settleAudit();
      const failed = await sql<AuditRow>(
        stack.databaseUrl,
        `SELECT * FROM audit_entries WHERE action = 'user.login' AND user_id = $1 AND outcome = 'failed' ORDER BY event_id`,
        [userId],
      );
      expect(failed.map((e) => e.reason)).toEqual(['session_limit_reached', 'invalid_credentials']);
      expect(failed[0].details).toMatchObject({ maxPerUser: CAP, liveSessions: CAP });
      expect(await sql(stack.databaseUrl, `SELECT 1 FROM audit_entries WHERE action = 'session.revoke' AND user_id = $1`, [userId])).toEqual([]);

      // A session ended makes room again.
      await stack
        .http()
        .post('/auth/logout')
        .set(...bearer(devices[0].accessToken))
        .send({ refreshToken: devices[0].refreshToken })
        .expect(200);
      await login(stack, email, password);
      expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
    });

    it(`${CONCURRENT_LOGINS} concurrent logins of one user open exactly the cap; every other one is refused and creates nothing`, async () => {
      const { userId, email, password } = await register(stack);
      const answers = await Promise.all(Array.from({ length: CONCURRENT_LOGINS }, () => loginRequest(stack, email, password)));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([...Array.from({ length: CAP }, () => 200), ...Array.from({ length: CONCURRENT_LOGINS - CAP }, () => 409)]);
      const opened = answers.filter((a) => a.status === 200).map((a) => a.body.sessionId as string);
      const rows = await sessionsOf(stack, userId);
      expect(rows.map((s) => s.id).sort()).toEqual(opened.sort());
      expect(rows.every((s) => s.revoked_at === null)).toBe(true);
      await stack.settleAudit();
      expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
    });
  });
});
