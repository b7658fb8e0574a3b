import type { NewSession } from '../../libs/sessions/src/application/ports/session-records.port';
import { type Transaction, UNIT_OF_WORK, type UnitOfWork } from '../../libs/sessions/src/application/ports/unit-of-work.port';
import { bearer, login, meStatus, signUp, uniqueEmail } from '../support/api';
import { expectEventually } from '../support/eventually';
import { AuditRow, brokenTriads, sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(60_000);

const ADMIN = { email: uniqueEmail('access-admin'), password: 'access admin password' };
const UNKNOWN_USER = '0190a5d2-0000-7000-8000-00000000beef';

/**
 * Keeping an attacker out: an administrator can disable an account (no login, no refresh, every
 * session ended at once) and can end every session while requiring a password reset, which a
 * one-time token issued to the administrator redeems.
 */
describe('disabling accounts and requiring a password reset', () => {
  let stack: TestStack;
  let adminToken: string;
  let adminId: string;
  let beforeInsertSession: ((session: NewSession) => Promise<void>) | null = null;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'access-control', admin: ADMIN });
    const admin = await login(stack, ADMIN.email, ADMIN.password);
    adminToken = admin.accessToken;
    adminId = admin.userId;
    // A seam to hold a login just before it inserts its session.
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
                    await beforeInsertSession?.(session);
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

  const admin = (path: string) =>
    stack
      .adminHttp()
      .post(path)
      .set(...bearer(adminToken));
  const auditOf = (userId: string, action: string) =>
    sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE user_id = $1 AND action = $2 ORDER BY event_id`, [userId, action]);
  const wrongPassword = async (email: string) => stack.http().post('/auth/login').send({ email, password: 'not the password at all' });

  it('disables an account: every session is refused at once, login gets the 401 of a wrong password, refresh is refused', async () => {
    const devices = await signUp(stack, 2, 'disabled');
    const [user] = devices;
    for (const device of devices) expect(await meStatus(stack, device.accessToken)).toBe(200); // cached "active"

    const response = await admin(`/admin/users/${user.userId}/disable`).send({ reason: 'Account taken over' }).expect(200);
    expect(response.body).toMatchObject({ revokedCount: 2, accessTokensValidUntil: expect.any(String) });
    for (const device of devices) {
      expect(await meStatus(stack, device.accessToken)).toBe(401);
      await stack.http().post('/auth/refresh').send({ refreshToken: device.refreshToken }).expect(401);
    }
    const refused = await stack.http().post('/auth/login').send({ email: user.email, password: user.password });
    const wrong = await wrongPassword(user.email);
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual(wrong.body);
    expect(refused.headers['content-type']).toBe(wrong.headers['content-type']);

    const sessions = await sql<{ revoked_reason: string; revoked_by: string }>(
      stack.databaseUrl,
      `SELECT revoked_reason, revoked_by FROM sessions WHERE user_id = $1`,
      [user.userId],
    );
    expect(sessions).toEqual(devices.map(() => ({ revoked_reason: 'user_disabled', revoked_by: adminId })));

    await stack.settleAudit();
    expect((await auditOf(user.userId, 'user.disable')).map((r) => [r.outcome, r.actor_type, r.actor_id, r.reason, r.details.count ?? null])).toEqual([
      ['attempted', 'admin', adminId, 'Account taken over', null],
      ['succeeded', 'admin', adminId, 'Account taken over', 2],
    ]);
    const [disabled] = (await auditOf(user.userId, 'user.disable')).slice(1);
    expect(disabled.session_id).toBeNull();
    expect((await auditOf(user.userId, 'user.login')).filter((r) => r.outcome === 'failed').map((r) => r.reason)).toEqual([
      'user_disabled',
      'invalid_credentials',
    ]);

    // Enabled again: the password works, the ended sessions stay ended.
    await admin(`/admin/users/${user.userId}/enable`).send({ reason: 'Owner verified by phone' }).expect(204);
    await login(stack, user.email, user.password);
    for (const device of devices) expect(await meStatus(stack, device.accessToken)).toBe(401);
    expect((await auditOf(user.userId, 'user.enable')).map((r) => [r.outcome, r.reason])).toEqual([
      ['attempted', 'Owner verified by phone'],
      ['succeeded', 'Owner verified by phone'],
    ]);
  });

  it('ends the session of a login that was opening while the account was disabled', async () => {
    const [user] = await signUp(stack, 1, 'disable-race');
    let release!: () => void;
    const reached = new Promise<void>((resolve) => {
      beforeInsertSession = async (session) => {
        if (session.userAgent !== 'held-login') return;
        resolve();
        await new Promise<void>((go) => (release = go));
      };
    });
    const pending = stack
      .http()
      .post('/auth/login')
      .set('User-Agent', 'held-login')
      .send({ email: user.email, password: user.password })
      .then((r) => r);
    await reached; // the password is verified, the session not yet inserted
    let disableAnswered = false;
    const disable = admin(`/admin/users/${user.userId}/disable`)
      .send({ reason: 'Disable during a login' })
      .then((r) => ((disableAnswered = true), r));
    try {
      // The disable either waits for the login's row lock, or (without it) runs to its end.
      await expectEventually(
        async () => {
          if (disableAnswered) return;
          const [row] = await sql<{ n: number }>(
            stack.databaseUrl,
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          expect({ disableAnswered, waitingForALock: row.n }).not.toEqual({ disableAnswered: false, waitingForALock: 0 });
        },
        { timeoutMs: 10_000, intervalMs: 10 },
      );
    } finally {
      release();
      beforeInsertSession = null;
    }
    const [loginResponse, disableResponse] = await Promise.all([pending, disable]);
    expect(disableResponse.status).toBe(200);
    if (loginResponse.status === 200) expect(await meStatus(stack, loginResponse.body.accessToken)).toBe(401);
    const [active] = await sql<{ n: number }>(stack.databaseUrl, `SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL`, [
      user.userId,
    ]);
    expect(active.n).toBe(0);
  });

  it('ends every session and requires a password reset in one action; the one-time token sets a new password once', async () => {
    const devices = await signUp(stack, 2, 'reset');
    const [user] = devices;
    const issued = await admin(`/admin/users/${user.userId}/password-reset`).send({ reason: 'Password seen in a breach dump' }).expect(200);
    expect(issued.body).toMatchObject({
      revokedCount: 2,
      resetToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expiresAt: expect.any(String),
      accessTokensValidUntil: expect.any(String),
    });
    const expiresInMs = Date.parse(issued.body.expiresAt) - Date.now();
    expect(expiresInMs).toBeGreaterThan(23 * 3600_000);
    expect(expiresInMs).toBeLessThanOrEqual(24 * 3600_000);
    for (const device of devices) expect(await meStatus(stack, device.accessToken)).toBe(401);

    // The old password no longer opens a session, with the answer of a wrong one.
    const refused = await stack.http().post('/auth/login').send({ email: user.email, password: user.password });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual((await wrongPassword(user.email)).body);

    await stack.http().post('/auth/password/reset').send({ resetToken: 'short', newPassword: 'a brand new password' }).expect(400);
    await stack.http().post('/auth/password/reset').send({ resetToken: issued.body.resetToken, newPassword: 'short' }).expect(400);
    // The password policy applies here too, and a refused password does not use the token up.
    const common = await stack.http().post('/auth/password/reset').send({ resetToken: issued.body.resetToken, newPassword: '12345678' }).expect(400);
    expect(common.body.errors).toEqual([{ field: 'newPassword', messages: [expect.stringContaining('commonly used')] }]);
    await stack.http().post('/auth/password/reset').send({ resetToken: issued.body.resetToken, newPassword: 'a brand new password' }).expect(200);
    await stack.http().post('/auth/password/reset').send({ resetToken: issued.body.resetToken, newPassword: 'yet another password' }).expect(401);
    await login(stack, user.email, 'a brand new password');
    await stack.http().post('/auth/login').send({ email: user.email, password: user.password }).expect(401);

    // An expired token is refused and changes nothing.
    const again = await admin(`/admin/users/${user.userId}/password-reset`).send({ reason: 'Second reset' }).expect(200);
    expect(again.body.revokedCount).toBe(1);
    await sql(stack.databaseUrl, `UPDATE users SET password_reset_expires_at = now() - interval '1 second' WHERE id = $1`, [user.userId]);
    await stack.http().post('/auth/password/reset').send({ resetToken: again.body.resetToken, newPassword: 'too late password' }).expect(401);
    await stack.http().post('/auth/login').send({ email: user.email, password: 'a brand new password' }).expect(401);

    await stack.settleAudit();
    expect((await auditOf(user.userId, 'user.password_reset_require')).map((r) => [r.outcome, r.actor_type, r.reason])).toEqual([
      ['attempted', 'admin', 'Password seen in a breach dump'],
      ['succeeded', 'admin', 'Password seen in a breach dump'],
      ['attempted', 'admin', 'Second reset'],
      ['succeeded', 'admin', 'Second reset'],
    ]);
    expect((await auditOf(user.userId, 'user.password_reset')).map((r) => [r.outcome, r.actor_type, r.actor_id])).toEqual([['succeeded', 'user', user.userId]]);
    const everything = JSON.stringify(await sql(stack.databaseUrl, `SELECT * FROM audit_entries`));
    expect(everything).not.toContain(issued.body.resetToken);
    expect(everything).not.toContain(again.body.resetToken);
    const [stored] = await sql<{ hash: Buffer }>(stack.databaseUrl, `SELECT password_reset_token_hash AS hash FROM users WHERE id = $1`, [user.userId]);
    expect(stored.hash.toString('base64url')).not.toBe(again.body.resetToken);
  });

  it('answers 404 problem+json for an unknown user, after an audited Failed', async () => {
    for (const [path, action] of [
      ['disable', 'user.disable'],
      ['enable', 'user.enable'],
      ['password-reset', 'user.password_reset_require'],
    ]) {
      const response = await admin(`/admin/users/${UNKNOWN_USER}/${path}`).send({ reason: 'No such person' }).expect(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      await stack.settleAudit();
      expect((await auditOf(UNKNOWN_USER, action)).map((r) => [r.outcome, r.reason])).toEqual([
        ['attempted', 'No such person'],
        ['failed', 'user_not_found'],
      ]);
    }
    const [user] = await signUp(stack, 1, 'bad-reason');
    for (const path of ['disable', 'enable', 'password-reset']) {
      await admin(`/admin/users/${user.userId}/${path}`).send({ reason: 'no' }).expect(400);
      await admin(`/admin/users/not-a-uuid/${path}`).send({ reason: 'A fine reason' }).expect(400);
      await stack
        .adminHttp()
        .post(`/admin/users/${user.userId}/${path}`)
        .set(...bearer(user.accessToken))
        .send({ reason: 'Not an admin' })
        .expect(403);
    }
    expect(await meStatus(stack, user.accessToken)).toBe(200);
    expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
  });
});
