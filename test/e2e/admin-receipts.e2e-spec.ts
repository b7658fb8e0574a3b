import { bearer, login, meStatus, signUp, uniqueEmail } from '../support/api';
import { expectReceipt } from '../support/receipts';
import { AuditRow, sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

const ADMIN = { email: uniqueEmail('admin'), password: 'admin password 1' };
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.130 Safari/537.36';

/** PUT role, require-password-reset, the receipts of revocations, and the session list's device and "current". */
describe('admin console: roles, password resets, receipts, devices', () => {
  let stack: TestStack;
  let admin: Awaited<ReturnType<typeof login>>;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'admin-receipts-e2e', admin: ADMIN });
    admin = await login(stack, ADMIN.email, ADMIN.password, CHROME);
  });

  afterAll(async () => {
    await stack?.close();
  });

  const adminPost = (path: string) =>
    stack
      .adminHttp()
      .post(path)
      .set(...bearer(admin.accessToken));
  const adminPut = (path: string) =>
    stack
      .adminHttp()
      .put(path)
      .set(...bearer(admin.accessToken));

  it('sets a role with PUT (204), refuses an admin demoting themself (409 cannot_demote_self, audited), and keeps the deprecated POST', async () => {
    const [user] = await signUp(stack, 1, 'promoted');
    await adminPut(`/admin/users/${user.userId}/role`).send({ role: 'admin', reason: 'Joins the on-call rota' }).expect(204);
    await stack
      .adminHttp()
      .get('/admin/audit')
      .set(...bearer(user.accessToken))
      .expect(200);
    const self = await adminPut(`/admin/users/${admin.userId}/role`).send({ role: 'user', reason: 'Stepping down' }).expect(409);
    expect(self.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(self.body).toMatchObject({ status: 409, code: 'cannot_demote_self' });
    await adminPut(`/admin/users/${user.userId}/role`).send({ role: 'root', reason: 'No such role' }).expect(400);
    await adminPut(`/admin/users/0190a5d2-0000-7000-8000-00000000abcd/role`).send({ role: 'user', reason: 'Typo in the id' }).expect(404);
    // The user is an administrator now: demoting them needs the password entered again.
    await adminPost(`/admin/users/${user.userId}/role`).send({ role: 'user', reason: 'Left the rota' }).expect(403);
    await adminPost('/admin/auth/reauthenticate').send({ password: ADMIN.password }).expect(200);
    const old = await adminPost(`/admin/users/${user.userId}/role`).send({ role: 'user', reason: 'Left the rota' }).expect(200);
    expect(old.body).toEqual({ userId: user.userId, role: 'user', previousRole: 'admin' });

    await stack.settleAudit();
    const rows = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE action = 'user.role_change' AND user_id = $1 ORDER BY event_id`, [
      admin.userId,
    ]);
    expect(rows.map((row) => [row.outcome, row.actor_id, row.reason])).toEqual([
      ['attempted', admin.userId, 'Stepping down'],
      ['failed', admin.userId, 'cannot_demote_self'],
    ]);
  });

  it('answers revoke-all, disable and require-password-reset with a receipt: exactly the sessions ended, at their revoked_at, and when their last access token dies', async () => {
    const victims = await signUp(stack, 3, 'receipt');
    const revoked = await adminPost(`/admin/users/${victims[0].userId}/sessions/revoke-all`)
      .send({ reason: 'Account takeover', keepSessionId: victims[2].sessionId })
      .expect(200);
    await expectReceipt(stack, revoked.body, {
      userId: victims[0].userId,
      ended: [victims[0].sessionId, victims[1].sessionId],
      accessTokens: [victims[0].accessToken, victims[1].accessToken],
    });
    expect(Object.keys(revoked.body).sort()).toEqual(['accessTokensValidUntil', 'effectiveAt', 'revokedCount', 'sessionIds']);
    for (const device of victims.slice(0, 2)) expect(await meStatus(stack, device.accessToken)).toBe(401);

    const [other] = await signUp(stack, 1, 'disabled');
    const disabled = await adminPost(`/admin/users/${other.userId}/disable`).send({ reason: 'Fraud' }).expect(200);
    await expectReceipt(stack, disabled.body, { userId: other.userId, ended: [other.sessionId], accessTokens: [other.accessToken] });
    // Disabled again: nothing left to end.
    const again = await adminPost(`/admin/users/${other.userId}/disable`).send({ reason: 'Fraud' }).expect(200);
    await expectReceipt(stack, again.body, { userId: other.userId, ended: [], accessTokens: [] });

    const [resetUser] = await signUp(stack, 1, 'reset');
    const reset = await adminPost(`/admin/users/${resetUser.userId}/require-password-reset`).send({ reason: 'Password in a breach dump' }).expect(200);
    expect(reset.body).toEqual({
      revokedCount: 1,
      sessionIds: [resetUser.sessionId],
      resetToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expiresAt: expect.any(String),
      effectiveAt: expect.any(String),
      accessTokensValidUntil: expect.any(String),
    });
    await expectReceipt(stack, reset.body, { userId: resetUser.userId, ended: [resetUser.sessionId], accessTokens: [resetUser.accessToken] });
    expect(await meStatus(stack, resetUser.accessToken)).toBe(401);
    // The older path of the same action answers the same receipt.
    const older = await adminPost(`/admin/users/${resetUser.userId}/password-reset`).send({ reason: 'Issued again' }).expect(200);
    await expectReceipt(stack, older.body, { userId: resetUser.userId, ended: [], accessTokens: [] });
    await stack.http().post('/auth/password/reset').send({ resetToken: older.body.resetToken, newPassword: 'a brand new password' }).expect(200);
    await adminPost(`/admin/users/0190a5d2-0000-7000-8000-00000000abcd/require-password-reset`).send({ reason: 'Typo in the id' }).expect(404);
    await adminPost(`/admin/users/${resetUser.userId}/require-password-reset`).send({ reason: 'no' }).expect(400);
  });

  it('answers DELETE /admin/sessions/:id and its POST twin with the receipt of that one session', async () => {
    const [user, second] = await signUp(stack, 2, 'one-session');
    const deleted = await stack
      .adminHttp()
      .delete(`/admin/sessions/${user.sessionId}`)
      .set(...bearer(admin.accessToken))
      .send({ reason: 'Lost laptop' })
      .expect(200);
    await expectReceipt(stack, deleted.body, { userId: user.userId, ended: [user.sessionId], accessTokens: [user.accessToken] });
    const posted = await adminPost(`/admin/sessions/${second.sessionId}/revoke`).send({ reason: 'Lost phone' }).expect(200);
    await expectReceipt(stack, posted.body, { userId: user.userId, ended: [second.sessionId], accessTokens: [second.accessToken] });
  });

  it('answers the bulk revoke-all with a receipt per user and one for the whole, null instants for an unknown user', async () => {
    const first = await signUp(stack, 2, 'bulk-a');
    const [second] = await signUp(stack, 1, 'bulk-b');
    const unknown = '0190a5d2-0000-7000-8000-00000000abcd';
    await adminPost('/admin/auth/reauthenticate').send({ password: ADMIN.password }).expect(200);
    const bulk = await adminPost('/admin/users/sessions/revoke-all')
      .send({ userIds: [first[0].userId, unknown, second.userId], reason: 'Incident 42' })
      .expect(200);
    const [a, none, b] = bulk.body.results;
    await expectReceipt(stack, a, { userId: first[0].userId, ended: first.map((d) => d.sessionId), accessTokens: first.map((d) => d.accessToken) });
    expect(none).toEqual({ userId: unknown, found: false, revokedCount: 0, sessionIds: [], effectiveAt: null, accessTokensValidUntil: null });
    await expectReceipt(stack, b, { userId: second.userId, ended: [second.sessionId], accessTokens: [second.accessToken] });
    expect(bulk.body).toMatchObject({
      revokedCount: 3,
      sessionIds: [...a.sessionIds, ...b.sessionIds],
      effectiveAt: [a.effectiveAt, b.effectiveAt].sort().at(-1),
      accessTokensValidUntil: [a.accessTokensValidUntil, b.accessTokensValidUntil].sort().at(-1),
    });
  });

  it("shows each session's device parsed from its User-Agent (the raw one kept), which is the admin's own, and who revoked one", async () => {
    // The admin's own sessions: the one this test signed in with is `current`.
    const second = await login(stack, ADMIN.email, ADMIN.password, '<script>alert(1)</script>');
    const own = await stack
      .adminHttp()
      .get(`/admin/users/${admin.userId}/sessions`)
      .set(...bearer(admin.accessToken))
      .expect(200);
    const byId = new Map(own.body.sessions.map((session: { id: string }) => [session.id, session]));
    expect(byId.get(admin.sessionId)).toMatchObject({
      userAgent: CHROME,
      device: { browser: 'Chrome 120', os: 'Windows 10', type: null },
      current: true,
    });
    expect(byId.get(second.sessionId)).toMatchObject({
      userAgent: '<script>alert(1)</script>',
      device: { browser: null, os: null, type: null },
      current: false,
    });

    await stack
      .adminHttp()
      .delete(`/admin/sessions/${second.sessionId}`)
      .set(...bearer(admin.accessToken))
      .send({ reason: 'Unknown client' })
      .expect(200);
    const withRevoked = await stack
      .adminHttp()
      .get(`/admin/users/${admin.userId}/sessions?include=revoked`)
      .set(...bearer(admin.accessToken))
      .expect(200);
    expect(withRevoked.body.sessions.find((session: { id: string }) => session.id === second.sessionId)).toMatchObject({
      current: false,
      revokedAt: expect.any(String),
      revokedReason: 'Unknown client',
      revokedBy: admin.userId,
    });
  });
});
