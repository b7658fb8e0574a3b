import { randomBytes } from 'node:crypto';
import { bearer, meStatus, signUp } from '../support/api';
import { AuditRow, brokenTriads, sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

const refresh = (stack: TestStack, refreshToken: string, userAgent = 'logout-browser') =>
  stack.http().post('/auth/refresh').set('User-Agent', userAgent).send({ refreshToken });

describe('logout', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'logout' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  async function sessionRow(sessionId: string) {
    const [row] = await sql(stack.databaseUrl, 'SELECT revoked_at, revoked_reason FROM sessions WHERE id = $1', [sessionId]);
    return row;
  }

  it('ends a live session presented with a refresh token rotated away from it', async () => {
    const [device] = await signUp(stack);
    const rotated = await refresh(stack, device.refreshToken).expect(200);
    await stack.http().post('/auth/logout').send({ refreshToken: device.refreshToken }).expect(200);
    expect(await sessionRow(device.sessionId)).toMatchObject({ revoked_at: expect.any(Date), revoked_reason: 'logout' });
    expect(await meStatus(stack, rotated.body.accessToken)).toBe(401);
    await refresh(stack, rotated.body.refreshToken).expect(401);
    await stack.settleAudit();
    const outcomes = await sql<AuditRow>(
      stack.databaseUrl,
      `SELECT * FROM audit_entries WHERE action = 'user.logout' AND session_id = $1 AND outcome <> 'attempted'`,
      [device.sessionId],
    );
    expect(outcomes.map((e) => [e.outcome, e.user_id])).toEqual([['succeeded', device.userId]]);
    expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
  });

  it("ends the session of a valid Bearer, with that session's rotated-away token or an unknown one", async () => {
    const [first, second] = await signUp(stack, 2);
    const rotated = await refresh(stack, first.refreshToken).expect(200);
    await stack
      .http()
      .post('/auth/logout')
      .set(...bearer(rotated.body.accessToken))
      .send({ refreshToken: first.refreshToken })
      .expect(200);
    expect(await meStatus(stack, rotated.body.accessToken)).toBe(401);
    expect((await sessionRow(first.sessionId)).revoked_reason).toBe('logout');

    const unknown = randomBytes(32).toString('base64url');
    await stack
      .http()
      .post('/auth/logout')
      .set(...bearer(second.accessToken))
      .send({ refreshToken: unknown })
      .expect(200);
    expect(await meStatus(stack, second.accessToken)).toBe(401);
    await refresh(stack, second.refreshToken).expect(401);
    expect((await sessionRow(second.sessionId)).revoked_reason).toBe('logout');
    await stack.settleAudit();
    expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
  });

  it("never ends another user's session through a Bearer: only the Bearer's own", async () => {
    const [alice] = await signUp(stack, 1, 'alice');
    const [bob] = await signUp(stack, 1, 'bob');
    await stack
      .http()
      .post('/auth/logout')
      .set(...bearer(alice.accessToken))
      .send({ refreshToken: bob.refreshToken })
      .expect(200);
    expect(await meStatus(stack, alice.accessToken)).toBe(401);
    expect(await meStatus(stack, bob.accessToken)).toBe(200);
    await refresh(stack, bob.refreshToken).expect(200);
  });
});
