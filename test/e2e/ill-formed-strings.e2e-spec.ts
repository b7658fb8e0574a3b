import { bearer, signUp, type SignedIn, uniqueEmail } from '../support/api';
import { sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(60_000);

/**
 * A lone UTF-16 surrogate (JSON's `\ud800` escape) has no UTF-8 form: in the register email it
 * was a 500 with a stack trace in the log. Every route answers 400 problem+json naming the
 * field, and nothing changes: no user, session or audit entry (issue 8 #20).
 */
describe('ill-formed strings', () => {
  let stack: TestStack;
  let signedIn: SignedIn;
  const ADMIN = { email: uniqueEmail('admin'), password: 'admin password 1' };
  let adminToken: string;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'ill-formed-strings', admin: ADMIN });
    [signedIn] = await signUp(stack, 1, 'ill-formed');
    adminToken = (await stack.http().post('/auth/login').send(ADMIN).expect(200)).body.accessToken;
  });

  afterAll(async () => {
    await stack?.close();
  });

  /** Row counts of everything a request could change. */
  async function state(): Promise<string> {
    await stack.settleAudit();
    const [row] = await sql(
      stack.databaseUrl,
      `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM sessions) AS sessions,
              (SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL) AS revoked,
              (SELECT count(*) FROM refresh_tokens) AS tokens, (SELECT count(*) FROM audit_entries) AS audit,
              (SELECT string_agg(password_hash, ',' ORDER BY id) FROM users) AS hashes`,
    );
    return JSON.stringify(row);
  }

  const LONE = '\\ud800';
  const cases: Array<{ name: string; app: 'web' | 'admin'; path: string; body: () => string; token?: () => string; field: string }> = [
    {
      name: 'register email',
      app: 'web',
      path: '/auth/register',
      body: () => `{"email":"a${LONE}@example.com","password":"correct horse battery"}`,
      field: 'email',
    },
    {
      name: 'register password',
      app: 'web',
      path: '/auth/register',
      body: () => `{"email":"${uniqueEmail('lone')}","password":"correct horse ${LONE}"}`,
      field: 'password',
    },
    {
      name: 'login email',
      app: 'web',
      path: '/auth/login',
      body: () => `{"email":"${signedIn.email.replace('@', `${LONE}@`)}","password":"x"}`,
      field: 'email',
    },
    {
      name: 'login password',
      app: 'web',
      path: '/auth/login',
      body: () => `{"email":"${signedIn.email}","password":"${signedIn.password}${LONE}"}`,
      field: 'password',
    },
    { name: 'refresh token', app: 'web', path: '/auth/refresh', body: () => `{"refreshToken":"${'a'.repeat(42)}\\udfff"}`, field: 'refreshToken' },
    {
      name: 'new password',
      app: 'web',
      path: '/auth/password',
      token: () => signedIn.accessToken,
      body: () => `{"currentPassword":"${signedIn.password}","newPassword":"a new long password ${LONE}"}`,
      field: 'newPassword',
    },
    {
      name: 'admin revoke reason',
      app: 'admin',
      path: `/admin/users/{user}/sessions/revoke-all`,
      token: () => adminToken,
      body: () => `{"reason":"because ${LONE}"}`,
      field: 'reason',
    },
  ];

  it.each(cases.map((c) => [c.name, c] as const))('answers a lone surrogate in the %s with a 400 problem and changes nothing', async (_name, c) => {
    const before = await state();
    const http = c.app === 'web' ? stack.http() : stack.adminHttp();
    let call = http.post(c.path.replace('{user}', signedIn.userId)).set('Content-Type', 'application/json');
    if (c.token) call = call.set(...bearer(c.token()));
    const response = await call.send(c.body());
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body.errors).toContainEqual({ field: c.field, messages: [`${c.field} must be well-formed Unicode (it holds a lone UTF-16 surrogate)`] });
    expect(await state()).toBe(before);
  });

  it('logs no error and no stack trace for any of them', () => {
    const errors = stack.logs.lines.filter((line) => /"level":"(error|fatal)"/.test(line) || /\n\s+at /.test(line));
    expect(errors).toEqual([]);
  });
});
