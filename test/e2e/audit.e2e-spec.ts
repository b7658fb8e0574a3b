import { bearer, meStatus, signUp } from '../support/api';
import { AuditRow, brokenTriads, sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

/** Makes every UPDATE of the given user's sessions fail, as a database failing mid-command would. */
async function breakSessionUpdates(url: string, userId: string): Promise<() => Promise<void>> {
  await sql(
    url,
    `CREATE OR REPLACE FUNCTION test_fail_session_update() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN RAISE EXCEPTION 'injected failure' USING ERRCODE = 'XX000'; END $$;
     CREATE TRIGGER test_fail_session_update BEFORE UPDATE ON sessions
       FOR EACH ROW WHEN (OLD.user_id = '${userId}') EXECUTE FUNCTION test_fail_session_update();`,
  );
  return async () => {
    await sql(url, 'DROP TRIGGER test_fail_session_update ON sessions');
  };
}

describe('audit trail', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'audit-e2e' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  const entriesFor = (userId: string) => sql<AuditRow>(stack.databaseUrl, 'SELECT * FROM audit_entries WHERE user_id = $1 ORDER BY event_id', [userId]);

  it('records every command as Attempted plus exactly one outcome, with who, what, where and why', async () => {
    const [device, other] = await signUp(stack, 2);
    await stack.http().post('/auth/refresh').set('User-Agent', 'refresh-agent').send({ refreshToken: other.refreshToken }).expect(200);
    await stack.http().post('/auth/login').send({ email: device.email, password: 'wrong password!' }).expect(401);
    await stack
      .http()
      .post('/auth/sessions/revoke-all')
      .set(...bearer(device.accessToken))
      .set('User-Agent', 'revoke-agent')
      .send({ keepCurrent: true })
      .expect(200);
    await stack
      .http()
      .post('/auth/logout')
      .set(...bearer(device.accessToken))
      .send({ refreshToken: device.refreshToken })
      .expect(200);
    await stack.settleAudit();

    expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
    const entries = await entriesFor(device.userId);
    const outcomes = entries.filter((e) => e.outcome !== 'attempted').map((e) => `${e.action}:${e.outcome}`);
    expect(outcomes).toEqual([
      'user.register:succeeded',
      'user.login:succeeded',
      'user.login:succeeded',
      'tokens.refresh:succeeded',
      'user.login:failed',
      'sessions.revoke_all:succeeded',
      'user.logout:succeeded',
    ]);
    const revokeAll = entries.find((e) => e.action === 'sessions.revoke_all' && e.outcome === 'succeeded')!;
    expect(revokeAll).toMatchObject({
      actor_type: 'user',
      actor_id: device.userId,
      reason: 'user_revoked_all',
      user_agent: 'revoke-agent',
      ip_address: expect.stringMatching(/127\.0\.0\.1/),
    });
    expect(revokeAll.details).toMatchObject({ count: 1, sessionIds: [other.sessionId], keptSessionId: device.sessionId });
    const attempted = entries.find((e) => e.correlation_id === revokeAll.correlation_id && e.outcome === 'attempted');
    expect(attempted).toMatchObject({ action: 'sessions.revoke_all', user_agent: 'revoke-agent' });
    const failedLogin = entries.find((e) => e.action === 'user.login' && e.outcome === 'failed')!;
    expect(failedLogin.reason).toBe('invalid_credentials');
  });

  it('records a rejected logout as Failed with its reason', async () => {
    await stack
      .http()
      .post('/auth/logout')
      .set('User-Agent', 'unknown-token-agent')
      .send({ refreshToken: 'B'.repeat(43) })
      .expect(200);
    await stack.settleAudit();
    const rows = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE user_agent = 'unknown-token-agent' ORDER BY event_id`);
    expect(rows.map((r) => [r.outcome, r.reason])).toEqual([
      ['attempted', 'logout'],
      ['failed', 'token_not_found'],
    ]);
    expect(rows[0].correlation_id).toBe(rows[1].correlation_id);
  });

  it('when the database fails mid-revocation: nothing changes, the caller gets an error, and the audit trail has Attempted and Failed', async () => {
    const [device, other] = await signUp(stack, 2);
    const repair = await breakSessionUpdates(stack.databaseUrl, device.userId);
    try {
      const revokeAll = await stack
        .http()
        .post('/auth/sessions/revoke-all')
        .set(...bearer(device.accessToken))
        .send({});
      expect(revokeAll.status).toBeGreaterThanOrEqual(500);
      expect(revokeAll.headers['content-type']).toMatch(/^application\/problem\+json/);
      const logout = await stack
        .http()
        .post('/auth/logout')
        .set(...bearer(other.accessToken))
        .send({ refreshToken: other.refreshToken });
      expect(logout.status).toBeGreaterThanOrEqual(500);
      const password = await stack
        .http()
        .post('/auth/password')
        .set(...bearer(device.accessToken))
        .send({ currentPassword: device.password, newPassword: 'new password 123' });
      expect(password.status).toBeGreaterThanOrEqual(500);
    } finally {
      await repair();
    }
    await stack.settleAudit();

    // Nothing half-done: both sessions live, their refresh tokens too, the password is unchanged.
    expect(await meStatus(stack, device.accessToken)).toBe(200);
    expect(await meStatus(stack, other.accessToken)).toBe(200);
    const tokens = await sql(stack.databaseUrl, 'SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL', [device.userId]);
    expect(tokens[0].n).toBe(2);
    await stack.http().post('/auth/login').send({ email: device.email, password: device.password }).expect(200);

    await stack.settleAudit();
    expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
    const failed = (await entriesFor(device.userId)).filter((e) => e.outcome === 'failed').map((e) => [e.action, e.reason]);
    expect(failed).toEqual(
      expect.arrayContaining([
        ['sessions.revoke_all', 'internal_error'],
        ['user.logout', 'internal_error'],
        ['user.password_change', 'internal_error'],
      ]),
    );
  });

  // The trigger raises insufficient_privilege (42501) naming the operation; any other error (a
  // typo, a lock timeout, a missing table) is not the trigger at work.
  it.each([
    ['UPDATE', `UPDATE audit_entries SET reason = 'tampered' WHERE user_id = $1`],
    ['DELETE', 'DELETE FROM audit_entries WHERE user_id = $1'],
    ['TRUNCATE', 'TRUNCATE audit_entries'],
  ])('keeps the audit table append-only: %s is rejected with SQLSTATE 42501 and changes nothing', async (operation, statement) => {
    // Rows to match: the UPDATE and DELETE triggers fire per row, so on no rows they would prove nothing.
    const [device] = await signUp(stack);
    await stack.settleAudit();
    const before = await entriesFor(device.userId);
    expect(before.length).toBeGreaterThan(0);
    const [{ n: total }] = await sql<{ n: number }>(stack.databaseUrl, 'SELECT count(*)::int AS n FROM audit_entries');

    const params = operation === 'TRUNCATE' ? [] : [device.userId];
    await expect(sql(stack.databaseUrl, statement, params)).rejects.toMatchObject({
      code: '42501',
      message: `audit_entries is append-only: ${operation} rejected`,
    });

    expect(await entriesFor(device.userId)).toEqual(before);
    expect(await sql(stack.databaseUrl, 'SELECT count(*)::int AS n FROM audit_entries')).toEqual([{ n: total }]);
  });
});
