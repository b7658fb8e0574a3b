import { bearer, meStatus, signUp } from '../support/api';
import { AuditRow, brokenTriads, sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

const refresh = (stack: TestStack, refreshToken: string, userAgent: string) =>
  stack.http().post('/auth/refresh').set('User-Agent', userAgent).send({ refreshToken });

jest.setTimeout(60_000);

describe('refresh-token reuse detection', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'refresh-reuse', sessions: { refreshReuseGraceSeconds: 5 } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('ends the session when a rotated-away token is presented by another client, recording both origins', async () => {
    const [victim] = await signUp(stack);
    const rotated = await refresh(stack, victim.refreshToken, 'victim-browser').expect(200);
    const reuse = await refresh(stack, victim.refreshToken, 'attacker-tool').expect(401);
    expect(reuse.headers['content-type']).toMatch(/^application\/problem\+json/);

    // The whole session is dead: the victim's current tokens too.
    expect(await meStatus(stack, rotated.body.accessToken)).toBe(401);
    await refresh(stack, rotated.body.refreshToken, 'victim-browser').expect(401);
    const [row] = await sql(stack.databaseUrl, 'SELECT revoked_reason FROM sessions WHERE id = $1', [victim.sessionId]);
    expect(row.revoked_reason).toBe('refresh_token_reuse');

    await stack.settleAudit();
    expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
    const entries = await sql<AuditRow>(
      stack.databaseUrl,
      `SELECT * FROM audit_entries WHERE session_id = $1 AND outcome <> 'attempted' AND reason = 'refresh_token_reuse' ORDER BY event_id`,
      [victim.sessionId],
    );
    expect(entries.map((e) => [e.action, e.outcome, e.actor_type])).toEqual([
      ['session.revoke', 'succeeded', 'system'],
      ['tokens.refresh', 'failed', 'user'],
    ]);
    for (const entry of entries) {
      expect(entry.details).toMatchObject({
        original: { userAgent: 'victim-browser', ipAddress: expect.stringMatching(/127\.0\.0\.1/) },
        reuse: { userAgent: 'attacker-tool', ipAddress: expect.stringMatching(/127\.0\.0\.1/) },
      });
    }
  });

  it('lets the same client retry the token it just rotated (several tabs), in the same session', async () => {
    const [device] = await signUp(stack);
    const first = await refresh(stack, device.refreshToken, 'tab-browser').expect(200);
    const second = await refresh(stack, device.refreshToken, 'tab-browser').expect(200);
    expect(second.body.sessionId).toBe(device.sessionId);
    expect(await meStatus(stack, first.body.accessToken)).toBe(200);
    expect(await meStatus(stack, second.body.accessToken)).toBe(200);
    await stack.settleAudit();
    const [retry] = await sql<AuditRow>(
      stack.databaseUrl,
      `SELECT * FROM audit_entries WHERE session_id = $1 AND action = 'tokens.refresh' AND outcome = 'succeeded' AND details ? 'graceRetry'`,
      [device.sessionId],
    );
    expect(retry).toBeDefined();
  });

  it('treats an older ancestor as reuse even from the same client', async () => {
    const [device] = await signUp(stack);
    const first = await refresh(stack, device.refreshToken, 'same-browser').expect(200);
    await refresh(stack, first.body.refreshToken, 'same-browser').expect(200);
    // The grandparent is not the immediate parent of the live token.
    await refresh(stack, device.refreshToken, 'same-browser').expect(401);
    expect(await meStatus(stack, device.accessToken)).toBe(401);
  });

  it('two concurrent refreshes with one token never give two sessions, and never a token for a revoked session', async () => {
    for (let round = 0; round < 20; round += 1) {
      const [device] = await signUp(stack);
      const results = await Promise.all([refresh(stack, device.refreshToken, 'racer'), refresh(stack, device.refreshToken, 'racer')]);
      const sessions = new Set(results.filter((r) => r.status === 200).map((r) => r.body.sessionId));
      expect(sessions.size).toBeLessThanOrEqual(1);
      expect([...sessions]).toEqual(sessions.size ? [device.sessionId] : []);
    }
  });

  it('refresh racing logout and revoke-all issues no usable token for the revoked session', async () => {
    for (let round = 0; round < 20; round += 1) {
      const [a, b] = await signUp(stack, 2);
      const [refreshed, revocation] = await Promise.all([
        refresh(stack, a.refreshToken, 'racer'),
        round % 2 === 0
          ? stack.http().post('/auth/logout').send({ refreshToken: a.refreshToken })
          : stack
              .http()
              .post('/auth/sessions/revoke-all')
              .set(...bearer(b.accessToken))
              .send({}),
      ]);
      // Neither side may fail: they wait for each other's row locks instead of deadlocking.
      expect([200, 401]).toContain(refreshed.status);
      expect([200, 204]).toContain(revocation.status);
      const [session] = await sql(stack.databaseUrl, 'SELECT revoked_at FROM sessions WHERE id = $1', [a.sessionId]);
      if (session.revoked_at !== null && refreshed.status === 200) {
        expect(await meStatus(stack, refreshed.body.accessToken)).toBe(401);
        await refresh(stack, refreshed.body.refreshToken, 'racer').expect(401);
      }
    }
  });

  describe('one live refresh token per session', () => {
    const liveTokens = async (sessionId: string) =>
      (
        await sql<{ count: number }>(stack.databaseUrl, 'SELECT count(*)::int AS count FROM refresh_tokens WHERE session_id = $1 AND revoked_at IS NULL', [
          sessionId,
        ])
      )[0].count;
    const revokedReason = async (sessionId: string) =>
      (await sql(stack.databaseUrl, 'SELECT revoked_reason FROM sessions WHERE id = $1', [sessionId]))[0].revoked_reason;

    it('after a grace replay only the replacement works: the first rotation is retired and trips reuse detection', async () => {
      const [device] = await signUp(stack);
      const first = await refresh(stack, device.refreshToken, 'tab-browser').expect(200);
      const replay = await refresh(stack, device.refreshToken, 'tab-browser').expect(200);
      expect(await liveTokens(device.sessionId)).toBe(1);

      // The replacement keeps the session going; the token the first request got is dead.
      const next = await refresh(stack, replay.body.refreshToken, 'tab-browser').expect(200);
      expect(await liveTokens(device.sessionId)).toBe(1);
      await refresh(stack, first.body.refreshToken, 'tab-browser').expect(401);
      expect(await revokedReason(device.sessionId)).toBe('refresh_token_reuse');
      expect(await meStatus(stack, next.body.accessToken)).toBe(401);
      await refresh(stack, next.body.refreshToken, 'tab-browser').expect(401);
    });

    it('a token retired by a grace replay, presented by another client, ends the session', async () => {
      const [device] = await signUp(stack);
      const first = await refresh(stack, device.refreshToken, 'tab-browser').expect(200);
      const replay = await refresh(stack, device.refreshToken, 'tab-browser').expect(200);
      await refresh(stack, first.body.refreshToken, 'attacker-tool').expect(401);
      expect(await revokedReason(device.sessionId)).toBe('refresh_token_reuse');
      await refresh(stack, replay.body.refreshToken, 'tab-browser').expect(401);
      expect(await liveTokens(device.sessionId)).toBe(0);
    });

    it('concurrent grace replays still leave exactly one live token, and every tab stays in the session', async () => {
      for (let round = 0; round < 10; round += 1) {
        const [device] = await signUp(stack);
        await refresh(stack, device.refreshToken, 'tabs').expect(200);
        const replays = await Promise.all([0, 1, 2].map(() => refresh(stack, device.refreshToken, 'tabs')));
        expect(replays.map((r) => r.status)).toEqual([200, 200, 200]);
        expect(await liveTokens(device.sessionId)).toBe(1);
        expect(await revokedReason(device.sessionId)).toBeNull();
      }
      await stack.settleAudit();
      expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
    });

    it('the database refuses a second live refresh token for one session', async () => {
      const [device] = await signUp(stack);
      await expect(
        sql(
          stack.databaseUrl,
          `INSERT INTO refresh_tokens (id, session_id, user_id, token_hash, issued_at, expires_at)
           VALUES (gen_random_uuid(), $1, $2, sha256(gen_random_uuid()::text::bytea), now(), now() + interval '1 day')`,
          [device.sessionId, device.userId],
        ),
      ).rejects.toThrow(/refresh_tokens_one_live_per_session_key/);
    });
  });
});
