import { randomUUID } from 'node:crypto';
import { bearer, login, register, signUp, uniqueEmail } from '../support/api';
import { AuditRow, sql } from '../support/sql';
import { GENEROUS_RATE_LIMIT, startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(60_000);

const ADMIN = { email: uniqueEmail('admin'), password: 'admin password 1' };
/** Low, so a test can lock an account out; nothing else in this file fails a login. */
const LOCKOUT_THRESHOLD = 3;
const WRONG = 'not the password';

interface UserView {
  id: string;
  email: string;
  role: string;
  status: string;
  lockedUntil: string | null;
  passwordResetRequired: boolean;
  createdAt: string;
  lastLoginAt: string | null;
  activeSessions: number;
}

describe('admin console: the user directory', () => {
  let stack: TestStack;
  let adminToken: string;
  let adminUserId: string;

  const list = (query: Record<string, string | number | undefined>) =>
    stack
      .adminHttp()
      .get('/admin/users')
      .query(query)
      .set(...bearer(adminToken));
  const emailsOf = (body: { users: UserView[] }) => body.users.map((user) => user.email);

  /** Every page of a listing, following nextCursor. */
  async function walk(query: Record<string, string | number | undefined>): Promise<{ emails: string[]; pages: number }> {
    const emails: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response: { body: { users: UserView[]; nextCursor: string | null } } = await list({ ...query, ...(cursor ? { cursor } : {}) }).expect(200);
      emails.push(...emailsOf(response.body));
      cursor = response.body.nextCursor;
      pages += 1;
      expect(pages).toBeLessThan(1_000);
    } while (cursor !== null);
    return { emails, pages };
  }

  /** A user inserted as it is stored, for emails the registration policy would refuse. */
  async function insertUser(email: string): Promise<string> {
    const id = randomUUID();
    await sql(stack.databaseUrl, `INSERT INTO users (id, email, password_hash, role, created_at) VALUES ($1, $2, 'not a hash', 'user', now())`, [id, email]);
    return id;
  }

  beforeAll(async () => {
    stack = await startTestStack({
      label: 'admin-users',
      admin: ADMIN,
      settings: { rateLimit: { ...GENEROUS_RATE_LIMIT, lockoutThreshold: LOCKOUT_THRESHOLD, lockoutSeconds: 300 } },
    });
    const admin = await login(stack, ADMIN.email, ADMIN.password);
    adminToken = admin.accessToken;
    adminUserId = admin.userId;
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('finds users by email prefix, case-insensitively, in email order, with their sessions', async () => {
    const tag = `prefix-${randomUUID().slice(0, 8)}`;
    const emails = [`${tag}-carol@example.com`, `${tag}-alice@example.com`, `${tag}-bob@example.com`];
    const accounts = [];
    for (const email of emails) accounts.push(await register(stack, email));
    await login(stack, emails[0], accounts[0].password, 'device-a');
    const newest = await login(stack, emails[0], accounts[0].password, 'device-b');
    await register(stack, `other-${tag}@example.com`);

    const response = await list({ query: `  ${tag.toUpperCase()}-  ` }).expect(200);
    expect(emailsOf(response.body)).toEqual([...emails].sort());
    expect(response.body.nextCursor).toBeNull();
    const carol = response.body.users.find((user: UserView) => user.email === emails[0]);
    const [{ created_at: newestLogin }] = await sql<{ created_at: Date }>(stack.databaseUrl, 'SELECT created_at FROM sessions WHERE id = $1', [
      newest.sessionId,
    ]);
    expect(carol).toEqual({
      id: accounts[0].userId,
      email: emails[0],
      role: 'user',
      status: 'active',
      lockedUntil: null,
      passwordResetRequired: false,
      createdAt: expect.any(String),
      lastLoginAt: newestLogin.toISOString(),
      activeSessions: 2,
    });
    const alice = response.body.users.find((user: UserView) => user.email === emails[1]);
    expect(alice).toMatchObject({ lastLoginAt: null, activeSessions: 0 });

    // A revoked session still counts as the last sign-in, not as active.
    await stack
      .http()
      .delete(`/auth/sessions/${newest.sessionId}`)
      .set(...bearer(newest.accessToken))
      .expect(200);
    const after = await stack
      .adminHttp()
      .get(`/admin/users/${accounts[0].userId}`)
      .set(...bearer(adminToken))
      .expect(200);
    expect(after.body).toEqual({ ...carol, activeSessions: 1 });
  });

  it('finds a user by id, in any case, and answers one user by id (404 when unknown)', async () => {
    const [user] = await signUp(stack, 1, 'by-id');
    const byId = await list({ query: user.userId.toUpperCase() }).expect(200);
    expect(byId.body.users.map((u: UserView) => u.id)).toEqual([user.userId]);
    await list({ query: randomUUID() })
      .expect(200)
      .expect(({ body }) => expect(body).toEqual({ users: [], nextCursor: null }));

    const one = await stack
      .adminHttp()
      .get(`/admin/users/${user.userId}`)
      .set(...bearer(adminToken))
      .expect(200);
    expect(one.body).toMatchObject({ id: user.userId, email: user.email, status: 'active', activeSessions: 1 });
    const unknown = await stack
      .adminHttp()
      .get(`/admin/users/${randomUUID()}`)
      .set(...bearer(adminToken))
      .expect(404);
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('takes %, _ and \\ in a query literally', async () => {
    const tag = `meta-${randomUUID().slice(0, 8)}`;
    for (const local of ['a_b', 'axb', 'a%b', 'azzb', 'a\\b', 'ab']) await insertUser(`${tag}-${local}@example.com`);
    const found = async (query: string) => emailsOf((await list({ query }).expect(200)).body);
    expect(await found(`${tag}-a_`)).toEqual([`${tag}-a_b@example.com`]);
    expect(await found(`${tag}-a%`)).toEqual([`${tag}-a%b@example.com`]);
    expect(await found(`${tag}-a\\`)).toEqual([`${tag}-a\\b@example.com`]);
    expect(await found(`${tag}-a`)).toHaveLength(6);
    expect(await found(`${tag}-%`)).toEqual([]);
  });

  it('walks every user exactly once, page by page, with or without a query', async () => {
    const tag = `paging-${randomUUID().slice(0, 8)}`;
    const emails: string[] = [];
    for (let i = 0; i < 7; i += 1) emails.push(`${tag}-${i}@example.com`);
    for (const email of emails) await insertUser(email);

    const ofTag = await walk({ query: tag, limit: 2 });
    expect(ofTag).toEqual({ emails, pages: 4 });

    const everyone = await walk({ limit: 3 });
    const stored = await sql<{ email: string }>(stack.databaseUrl, 'SELECT email FROM users ORDER BY email COLLATE "C", id');
    expect(everyone.emails).toEqual(stored.map((row) => row.email));
    expect(new Set(everyone.emails).size).toBe(everyone.emails.length);

    // An exact page: the last one says there is no next.
    const exact = await list({ query: tag, limit: 7 }).expect(200);
    expect(exact.body.nextCursor).toBeNull();
    expect(emailsOf(exact.body)).toEqual(emails);
  });

  it('filters by status: disabled wins over locked', async () => {
    const tag = `status-${randomUUID().slice(0, 8)}`;
    const active = await register(stack, `${tag}-active@example.com`);
    const disabled = await register(stack, `${tag}-disabled@example.com`);
    await stack
      .adminHttp()
      .post(`/admin/users/${disabled.userId}/disable`)
      .set(...bearer(adminToken))
      .send({ reason: 'status filter test' })
      .expect(200);
    const statusOf = async (status: string) => emailsOf((await list({ query: tag, status }).expect(200)).body);
    expect(await statusOf('active')).toEqual([active.email]);
    expect(await statusOf('disabled')).toEqual([disabled.email]);
    expect(await statusOf('locked')).toEqual([]);

    // Locked out while disabled: still "disabled".
    for (let i = 0; i < LOCKOUT_THRESHOLD; i += 1) await stack.http().post('/auth/login').send({ email: disabled.email, password: WRONG }).expect(401);
    expect(await statusOf('disabled')).toEqual([disabled.email]);
    expect(await statusOf('locked')).toEqual([]);
    const view = await stack
      .adminHttp()
      .get(`/admin/users/${disabled.userId}`)
      .set(...bearer(adminToken))
      .expect(200);
    expect(view.body).toMatchObject({ status: 'disabled', lockedUntil: expect.any(String) });
  });

  it('shows a lockout after failed logins, and an unlock lifts it at once, with its audit triad', async () => {
    const account = await register(stack, uniqueEmail('locked'));
    const signIn = (password: string) => stack.http().post('/auth/login').send({ email: account.email, password });
    for (let i = 0; i < LOCKOUT_THRESHOLD; i += 1) await signIn(WRONG).expect(401);
    await signIn(account.password).expect(401);

    const locked = await stack
      .adminHttp()
      .get(`/admin/users/${account.userId}`)
      .set(...bearer(adminToken))
      .expect(200);
    expect(locked.body).toMatchObject({ status: 'locked', lockedUntil: expect.any(String) });
    expect(Date.parse(locked.body.lockedUntil)).toBeGreaterThan(Date.now() + 200_000);
    expect(emailsOf((await list({ query: account.email, status: 'locked' }).expect(200)).body)).toEqual([account.email]);

    const unlock = await stack
      .adminHttp()
      .post(`/admin/users/${account.userId}/unlock`)
      .set(...bearer(adminToken))
      .send({ reason: 'owner verified by phone' })
      .expect(204);
    await signIn(account.password).expect(200);

    const after = await stack
      .adminHttp()
      .get(`/admin/users/${account.userId}`)
      .set(...bearer(adminToken))
      .expect(200);
    expect(after.body).toMatchObject({ status: 'active', lockedUntil: null, activeSessions: 1 });
    expect(emailsOf((await list({ query: account.email, status: 'locked' }).expect(200)).body)).toEqual([]);

    await stack.settleAudit();
    const entries = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE action = 'user.unlock' AND user_id = $1 ORDER BY event_id`, [
      account.userId,
    ]);
    expect(entries.map((row) => [row.outcome, row.actor_type, row.actor_id, row.reason])).toEqual([
      ['attempted', 'admin', adminUserId, 'owner verified by phone'],
      ['succeeded', 'admin', adminUserId, 'owner verified by phone'],
    ]);
    expect(entries[1].details).toEqual({ locksCleared: 1 });
    expect(new Set(entries.map((row) => row.correlation_id)).size).toBe(1);
    expect(entries[1].request_id).toBe(unlock.headers['x-request-id']);

    // Nothing left to clear: audited all the same.
    await stack
      .adminHttp()
      .post(`/admin/users/${account.userId}/unlock`)
      .set(...bearer(adminToken))
      .send({ reason: 'a second look' })
      .expect(204);
    await stack.settleAudit();
    const [second] = await sql<AuditRow>(
      stack.databaseUrl,
      `SELECT * FROM audit_entries WHERE action = 'user.unlock' AND user_id = $1 AND reason = 'a second look' AND outcome = 'succeeded'`,
      [account.userId],
    );
    expect(second.details).toEqual({ locksCleared: 0 });
  });

  it('asks for the password again before unlocking another administrator, not to unlock oneself', async () => {
    const other = await register(stack, uniqueEmail('other-admin'));
    await stack
      .adminHttp()
      .post(`/admin/users/${other.userId}/role`)
      .set(...bearer(adminToken))
      .send({ role: 'admin', reason: 'joins the on-call rota' })
      .expect(200);
    const unlock = (userId: string) =>
      stack
        .adminHttp()
        .post(`/admin/users/${userId}/unlock`)
        .set(...bearer(adminToken))
        .send({ reason: 'step-up test unlock' });
    const refused = await unlock(other.userId).expect(403);
    expect(refused.body.code).toBe('reauthentication_required');
    await unlock(adminUserId).expect(204);
    await stack
      .adminHttp()
      .post('/admin/auth/reauthenticate')
      .set(...bearer(adminToken))
      .send({ password: ADMIN.password })
      .expect(200);
    await unlock(other.userId).expect(204);
  });

  it('refuses an unlock of an unknown user with 404, and audits it', async () => {
    const unknown = randomUUID();
    await stack
      .adminHttp()
      .post(`/admin/users/${unknown}/unlock`)
      .set(...bearer(adminToken))
      .send({ reason: 'no such user' })
      .expect(404);
    await stack.settleAudit();
    const entries = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE action = 'user.unlock' AND user_id = $1 ORDER BY event_id`, [
      unknown,
    ]);
    expect(entries.map((row) => [row.outcome, row.reason])).toEqual([
      ['attempted', 'no such user'],
      ['failed', 'user_not_found'],
    ]);
  });

  it.each([
    ['limit=0', { limit: 0 }, 'limit'],
    ['limit=101', { limit: 101 }, 'limit'],
    ['limit=abc', { limit: 'abc' }, 'limit'],
    ['limit=1.5', { limit: 1.5 }, 'limit'],
    ['status=frozen', { status: 'frozen' }, 'status'],
    ['a cursor never handed out', { cursor: 'garbage' }, 'cursor'],
    ['a cursor of a forged position', { cursor: Buffer.from(JSON.stringify(['a@example.com', 'not-a-uuid'])).toString('base64url') }, 'cursor'],
    ['a query longer than an email', { query: 'x'.repeat(255) }, 'query'],
  ])('answers 400 naming the field for %s', async (_name, query, field) => {
    const response = await list(query as Record<string, string | number>).expect(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(response.body)).toContain(field);
  });

  it('answers 400 for a malformed user id and an unlock without a reason', async () => {
    await stack
      .adminHttp()
      .get('/admin/users/not-a-uuid')
      .set(...bearer(adminToken))
      .expect(400);
    const [user] = await signUp(stack, 1, 'no-reason');
    const response = await stack
      .adminHttp()
      .post(`/admin/users/${user.userId}/unlock`)
      .set(...bearer(adminToken))
      .send({})
      .expect(400);
    expect(JSON.stringify(response.body)).toContain('reason');
  });

  it('refuses non-admins (403) and callers without a token (401)', async () => {
    const [user] = await signUp(stack, 1, 'not-admin');
    const requests = [
      () => stack.adminHttp().get('/admin/users'),
      () => stack.adminHttp().get(`/admin/users/${user.userId}`),
      () => stack.adminHttp().post(`/admin/users/${user.userId}/unlock`).send({ reason: 'let me in please' }),
    ];
    for (const make of requests) {
      await make().expect(401);
      const forbidden = await make()
        .set(...bearer(user.accessToken))
        .expect(403);
      expect(forbidden.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    await stack.settleAudit();
    const unlocks = await sql(stack.databaseUrl, `SELECT 1 FROM audit_entries WHERE action = 'user.unlock' AND user_id = $1`, [user.userId]);
    expect(unlocks).toEqual([]);
  });
});
