import type { RateLimitSettings } from '@app/runtime';
import type { Response } from 'supertest';
import { bearer, login, meStatus, register, signUp, uniqueEmail } from '../support/api';
import { AuditRow, brokenTriads, sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(60_000);

const WRONG = 'not the password';
const BEHIND_PROXY = { host: '127.0.0.1', bodyLimit: '16kb', trustProxy: 'loopback' as const };
const BASE: RateLimitSettings = {
  windowSeconds: 60,
  perIp: 1_000,
  perAccount: 3,
  lockoutThreshold: 3,
  lockoutSeconds: 60,
  loginMaxDelaySeconds: 60,
  perUser: 1_000,
  perIpAuthenticated: 1_000,
};

function expectTooManyRequests(response: Response, path: string): void {
  expect(response.status).toBe(429);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(response.body).toMatchObject({ title: 'Too Many Requests', status: 429, detail: `Too many requests; try again in ${retryAfter} s`, instance: path });
}

const auditCount = async (stack: TestStack, action: string, actorId: string) => {
  await stack.settleAudit();
  const [row] = await sql<{ n: string }>(stack.databaseUrl, `SELECT count(*) AS n FROM audit_entries WHERE action = $1 AND actor_id = $2`, [action, actorId]);
  return Number(row.n);
};

describe('login lockout that nobody can turn against the owner (issue 8 #6)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'abuse-lockout', settings: { http: BEHIND_PROXY, rateLimit: BASE } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  const loginFrom = (ip: string, email: string, password: string) => stack.http().post('/auth/login').set('X-Forwarded-For', ip).send({ email, password });

  it('keeps the owner signing in from a network they used before while attackers elsewhere guess, and locks only the guessing networks', async () => {
    const victim = await register(stack, uniqueEmail('victim'));
    await loginFrom('198.51.100.7', victim.email, victim.password).expect(200);

    // One network guesses up to the threshold (its lock engages, and the email-wide delay starts),
    // then more networks keep guessing: past the per-account limit and the email-wide threshold,
    // from IPv4 and from addresses spread over an IPv6 /64.
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await loginFrom('203.0.113.1', victim.email, WRONG)).status);
    const attackers = ['203.0.113.2', '2001:db8:bad:1::1', '2001:db8:bad:1:ffff::2', '2001:db8:bad:1::3', '203.0.113.3'];
    for (let round = 0; round < 2; round += 1) {
      for (const ip of attackers) statuses.push((await loginFrom(ip, victim.email, WRONG)).status);
    }
    expect(statuses).toEqual(Array(13).fill(401));

    // The owner, from the network they signed in from, gets in at once, every time.
    for (let i = 0; i < 3; i += 1) await loginFrom('198.51.100.7', victim.email, victim.password).expect(200);
    // The network that guessed is locked out of this account, even with the right password.
    await loginFrom('203.0.113.1', victim.email, victim.password).expect(401);
    // A network that never signed in waits for the email-wide delay (the same 401).
    await loginFrom('192.0.2.44', victim.email, victim.password).expect(401);

    await stack.settleAudit();
    const failed = await sql<AuditRow>(
      stack.databaseUrl,
      `SELECT * FROM audit_entries WHERE action = 'user.login' AND outcome = 'failed' AND user_id = $1 ORDER BY event_id`,
      [victim.userId],
    );
    const reasons = failed.map((row) => row.reason);
    expect(reasons.filter((r) => r === 'invalid_credentials').length).toBeGreaterThanOrEqual(3);
    expect(reasons).toContain('login_delayed');
    expect(reasons).toContain('account_locked');
    expect(failed.find((row) => row.details.delayedUntil !== undefined && row.reason === 'invalid_credentials')?.details).toMatchObject({ emailFailures: 3 });
  });
});

describe('POST /auth/password guesses (issue 8 #7)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'abuse-password', settings: { http: BEHIND_PROXY, rateLimit: BASE } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('counts wrong current passwords with failed logins and ends the session that made them, through an audited RevokeSession', async () => {
    const [device] = await signUp(stack, 1, 'guessed');
    const guess = (ip: string) =>
      stack
        .http()
        .post('/auth/password')
        .set('X-Forwarded-For', ip)
        .set(...bearer(device.accessToken))
        .send({ currentPassword: WRONG, newPassword: 'a brand new passphrase' });
    // One failed login from the attacker's network first: the budget is shared.
    await stack.http().post('/auth/login').set('X-Forwarded-For', '203.0.113.50').send({ email: device.email, password: WRONG }).expect(401);
    await guess('203.0.113.50').expect(403);
    expect(await meStatus(stack, device.accessToken)).toBe(200);
    await guess('203.0.113.50').expect(403); // the third failure of this network: the lock engages, the session ends
    expect(await meStatus(stack, device.accessToken)).toBe(401);
    await guess('203.0.113.50').expect(401);

    await stack.settleAudit();
    const revocations = await sql<AuditRow>(
      stack.databaseUrl,
      `SELECT * FROM audit_entries WHERE action = 'session.revoke' AND session_id = $1 ORDER BY event_id`,
      [device.sessionId],
    );
    expect(revocations.map((row) => [row.outcome, row.reason, row.actor_type])).toEqual([
      ['attempted', 'password_guessing', 'system'],
      ['succeeded', 'password_guessing', 'system'],
    ]);
    // The lock holds for logins from that network too.
    await stack.http().post('/auth/login').set('X-Forwarded-For', '203.0.113.50').send({ email: device.email, password: device.password }).expect(401);
    // That refusal's Failed entry goes through the audit saga: wait for it before counting outcomes.
    await stack.settleAudit();
    await expect(brokenTriads(stack.databaseUrl)).resolves.toEqual([]);
  });
});

describe('audited authenticated routes are bounded per user and per IP (issue 8 #8)', () => {
  let stack: TestStack;
  const ADMIN = { email: 'abuse-admin@example.com', password: 'admin passphrase for the limits' };
  const PER_USER = 3;

  beforeAll(async () => {
    stack = await startTestStack({
      label: 'abuse-audited',
      admin: ADMIN,
      settings: { http: BEHIND_PROXY, rateLimit: { ...BASE, perAccount: 1_000, lockoutThreshold: 1_000, perUser: PER_USER, perIpAuthenticated: 4 } },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('answers a burst of revocations by one user from many addresses with 429 once the bound is reached, and the audit trail stops growing', async () => {
    const [device] = await signUp(stack, 1, 'burst');
    const bound = PER_USER * 5; // revocations are 5 times as generous
    const statuses: number[] = [];
    for (let i = 0; i < bound + 5; i += 1) {
      const response = await stack
        .http()
        .delete(`/auth/sessions/0190a5d2-0000-7000-8000-${String(i).padStart(12, '0')}`)
        .set('X-Forwarded-For', `198.51.100.${i + 1}`)
        .set(...bearer(device.accessToken));
      statuses.push(response.status);
      if (i === bound) expectTooManyRequests(response, `/auth/sessions/0190a5d2-0000-7000-8000-${String(i).padStart(12, '0')}`);
    }
    expect(statuses).toEqual([...Array(bound).fill(404), ...Array(5).fill(429)]);
    // Each refused command writes its Attempted and Failed pair; the 429s write nothing.
    await expect(auditCount(stack, 'session.revoke', device.userId)).resolves.toBe(2 * bound);
  });

  it('bounds one address across users (4 × 5 revoke-alls), and leaves other addresses alone', async () => {
    const users = await signUp(stack, 1, 'ip-a').then(async (a) => [...a, ...(await signUp(stack, 1, 'ip-b'))]);
    const statuses: number[] = [];
    for (let i = 0; i < 24; i += 1) {
      const user = users[i % 2];
      statuses.push(
        (
          await stack
            .http()
            .post('/auth/sessions/revoke-all')
            .set('X-Forwarded-For', '203.0.113.77')
            .set(...bearer(user.accessToken))
            .send({ keepCurrent: true })
        ).status,
      );
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429]);
    // Each user made 12 of them: under the per-user bound of 15, so from another address both still get through.
    for (const user of users) {
      await stack
        .http()
        .post('/auth/sessions/revoke-all')
        .set('X-Forwarded-For', '203.0.113.78')
        .set(...bearer(user.accessToken))
        .send({ keepCurrent: true })
        .expect(200);
    }
  });

  it('limits password changes per user across addresses, as 429 problem+json', async () => {
    const [device] = await signUp(stack, 1, 'limited');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const response = await stack
        .http()
        .post('/auth/password')
        .set('X-Forwarded-For', `192.0.2.${i + 1}`)
        .set(...bearer(device.accessToken))
        .send({ currentPassword: `wrong ${i}`, newPassword: 'a brand new passphrase' });
      statuses.push(response.status);
      if (i === 3) expectTooManyRequests(response, '/auth/password');
    }
    // The lockout is out of reach here (threshold 1,000): the user's budget of 3 per window is the bound.
    expect(statuses).toEqual([403, 403, 403, 429, 429]);
  });

  it('bounds the admin console’s revocations per admin', async () => {
    const admin = await login(stack, ADMIN.email, ADMIN.password);
    const [target] = await signUp(stack, 1, 'target');
    const bound = PER_USER * 5;
    const statuses: number[] = [];
    for (let i = 0; i < bound + 3; i += 1) {
      const response = await stack
        .adminHttp()
        .post(`/admin/users/${target.userId}/sessions/revoke-all`)
        .set('X-Forwarded-For', `192.0.2.${i + 1}`)
        .set(...bearer(admin.accessToken))
        .send({ reason: 'burst test' });
      statuses.push(response.status);
      if (i === bound) expectTooManyRequests(response, `/admin/users/${target.userId}/sessions/revoke-all`);
    }
    expect(statuses).toEqual([...Array(bound).fill(200), 429, 429, 429]);
    await expect(auditCount(stack, 'sessions.revoke_all', admin.userId)).resolves.toBe(2 * bound);
  });
});

describe('logout is never refused for a token that works (issue 8 #16)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'abuse-logout', settings: { rateLimit: { ...BASE, perIp: 3, perAccount: 1_000, lockoutThreshold: 1_000 } } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('lets a neighbour on the same address log out after the address used up its logout budget on bad tokens', async () => {
    const [neighbour, other] = await signUp(stack, 2, 'neighbour');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      statuses.push(
        (
          await stack
            .http()
            .post('/auth/logout')
            .send({ refreshToken: String(i).repeat(43) })
        ).status,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);

    // Same address, over its limit: a live refresh token still logs out, and its session ends.
    await stack.http().post('/auth/logout').send({ refreshToken: neighbour.refreshToken }).expect(200);
    expect(await meStatus(stack, neighbour.accessToken)).toBe(401);
    // A valid Bearer with an unknown refresh token passes the limit too.
    await stack
      .http()
      .post('/auth/logout')
      .set(...bearer(other.accessToken))
      .send({ refreshToken: 'z'.repeat(43) })
      .expect(200);
    // The token just used is no longer live: refused again.
    expectTooManyRequests(await stack.http().post('/auth/logout').send({ refreshToken: neighbour.refreshToken }), '/auth/logout');
  });
});
