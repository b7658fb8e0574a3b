import { createHash, randomBytes } from 'node:crypto';
import { createClient } from '@keyv/redis';
import type { Response } from 'supertest';
import { bearer } from '../support/api';
import { sql } from '../support/sql';
import { startTestStack, TEST_REDIS_URL, type TestStack } from '../support/test-app';

/**
 * A realistic day of the service, failures included, then a search of everything it wrote (its
 * log lines, anything else printed, every row of every table, every Redis key and value) for every
 * password, access token and refresh token it saw. None may be there.
 */

/** Distinct enough that a match can only be the secret itself. */
const secret = (label: string) => `${label}-${randomBytes(9).toString('base64url')}`;

/** Makes every statement `when` on `table` fail for rows matching `condition`, as a failing database would. */
async function breakTable(url: string, name: string, table: string, when: 'INSERT' | 'UPDATE', condition: string): Promise<() => Promise<void>> {
  await sql(
    url,
    `CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN RAISE EXCEPTION 'injected failure' USING ERRCODE = 'XX000'; END $$;
     CREATE TRIGGER ${name} BEFORE ${when} ON ${table} FOR EACH ROW WHEN (${condition}) EXECUTE FUNCTION ${name}();`,
  );
  return async () => {
    await sql(url, `DROP TRIGGER ${name} ON ${table}`);
  };
}

describe('secrets are never logged or stored', () => {
  const ADMIN = { email: `admin-${randomBytes(4).toString('hex')}@example.com`, password: secret('admin-password') };
  const passwords = new Set<string>([ADMIN.password]);
  const accessTokens = new Set<string>();
  const refreshTokens = new Set<string>();
  /** Well-formed refresh tokens a client made up: never issued, so never stored. */
  const madeUp = new Set<string>();
  /** Everything printed outside the app's logger, should anything bypass it. */
  const printed: string[] = [];
  /** Every call to the app's logger with all its arguments, as Nest made it. */
  const loggerCalls: string[] = [];
  let stack: TestStack;

  /** Keeps every token an answer hands out. */
  const keep = (response: Response): Response => {
    const { accessToken, refreshToken } = (response.body ?? {}) as { accessToken?: unknown; refreshToken?: unknown };
    if (typeof accessToken === 'string') accessTokens.add(accessToken);
    if (typeof refreshToken === 'string') refreshTokens.add(refreshToken);
    return response;
  };
  const pw = (label: string) => {
    const value = secret(label);
    passwords.add(value);
    return value;
  };

  beforeAll(async () => {
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream);
      jest.spyOn(stream, 'write').mockImplementation((chunk: unknown, ...rest: unknown[]) => {
        printed.push(String(chunk));
        return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
      });
    }
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        printed.push(args.map((arg) => (typeof arg === 'string' ? arg : (JSON.stringify(arg) ?? String(arg)))).join(' '));
      });
    }
    stack = await startTestStack({ label: 'secrets-e2e', admin: ADMIN });
    const logger = stack.logger as Required<typeof stack.logger>;
    for (const level of ['log', 'error', 'warn', 'debug', 'verbose', 'fatal'] as const) {
      const original = logger[level].bind(logger) as (...args: unknown[]) => void;
      jest.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
        loggerCalls.push(`${level} ${args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' | ')}`);
        original(...args);
      });
    }
    await runTheDay();
    await stack.settleAudit();
  }, 60_000);

  afterAll(async () => {
    jest.restoreAllMocks();
    await stack?.close();
  });

  async function runTheDay(): Promise<void> {
    const http = () => stack.http();
    const email = `ada-${randomBytes(4).toString('hex')}@example.com`;
    const first = pw('first-password');
    await http().post('/auth/register').set('User-Agent', 'Firefox/140').send({ email, password: first }).expect(201);
    const laptop = keep(await http().post('/auth/login').set('User-Agent', 'laptop').send({ email, password: first }).expect(200)).body;
    const phone = keep(await http().post('/auth/login').set('User-Agent', 'phone').send({ email, password: first }).expect(200)).body;
    const tablet = keep(await http().post('/auth/login').set('User-Agent', 'tablet').send({ email, password: first }).expect(200)).body;

    // Refresh, then replay the used token: a grace retry or a detected reuse, both logged and audited.
    keep(await http().post('/auth/refresh').set('User-Agent', 'laptop').send({ refreshToken: laptop.refreshToken }).expect(200));
    keep(await http().post('/auth/refresh').set('User-Agent', 'laptop').send({ refreshToken: laptop.refreshToken }));
    keep(await http().post('/auth/refresh').set('User-Agent', 'elsewhere').send({ refreshToken: laptop.refreshToken }));
    keep(await http().post('/auth/refresh').send({ refreshToken: phone.refreshToken }).expect(200));

    // Failed logins: a wrong password (often a near-miss of the real one), an unknown email,
    // a password too long to be one, and a password inside malformed JSON.
    await http()
      .post('/auth/login')
      .send({ email, password: pw('near-miss') })
      .expect(401);
    await http()
      .post('/auth/login')
      .send({ email: 'nobody@example.com', password: pw('unknown-email') })
      .expect(401);
    await http()
      .post('/auth/login')
      .send({ email, password: `${pw('too-long')}${'x'.repeat(200)}` })
      .expect(400);
    await http()
      .post('/auth/login')
      .set('Content-Type', 'application/json')
      .send(`{"email":"${email}","password":"${pw('malformed-json')}"`)
      .expect(400);
    await http()
      .post('/auth/register')
      .send({ email: 'not an email', password: pw('bad-register') })
      .expect(400);

    await http()
      .get('/auth/me')
      .set(...bearer(tablet.accessToken))
      .expect(200);
    await http()
      .get('/auth/sessions')
      .set(...bearer(tablet.accessToken))
      .expect(200);
    // A client that puts its token in the URL.
    await http().get(`/auth/me?access_token=${tablet.accessToken}`).expect(401);

    // Password change: a wrong current password, then the right one.
    await http()
      .post('/auth/password')
      .set(...bearer(tablet.accessToken))
      .send({ currentPassword: pw('wrong-current'), newPassword: pw('never-set') })
      .expect(403);
    const second = pw('second-password');
    await http()
      .post('/auth/password')
      .set(...bearer(tablet.accessToken))
      .send({ currentPassword: first, newPassword: second })
      .expect(200);
    const desk = keep(await http().post('/auth/login').set('User-Agent', 'desk').send({ email, password: second }).expect(200)).body;
    const kiosk = keep(await http().post('/auth/login').set('User-Agent', 'kiosk').send({ email, password: second }).expect(200)).body;
    await http()
      .post('/auth/logout')
      .set(...bearer(desk.accessToken))
      .send({ refreshToken: desk.refreshToken })
      .expect(200);
    const unknownToken = randomBytes(32).toString('base64url');
    refreshTokens.add(unknownToken);
    madeUp.add(unknownToken);
    await http().post('/auth/logout').send({ refreshToken: unknownToken }).expect(200);

    // The database fails mid-command: error logs with stacks, Failed audit entries.
    const userId = (
      await http()
        .get('/auth/me')
        .set(...bearer(kiosk.accessToken))
        .expect(200)
    ).body.userId as string;
    const repairSessions = await breakTable(stack.databaseUrl, 'test_fail_session_update', 'sessions', 'UPDATE', `OLD.user_id = '${userId}'`);
    try {
      expect(
        (
          await http()
            .post(`/auth/sessions/revoke-all?token=${kiosk.accessToken}`)
            .set(...bearer(kiosk.accessToken))
            .send({ keepCurrent: true })
        ).status,
      ).toBe(500);
      expect(
        (
          await http()
            .post('/auth/logout')
            .set(...bearer(kiosk.accessToken))
            .send({ refreshToken: kiosk.refreshToken })
        ).status,
      ).toBe(500);
      expect(
        (
          await http()
            .post('/auth/password')
            .set(...bearer(kiosk.accessToken))
            .send({ currentPassword: second, newPassword: pw('rolled-back') })
        ).status,
      ).toBe(500);
      expect((await http().post('/auth/refresh').send({ refreshToken: kiosk.refreshToken })).status).toBe(500);
    } finally {
      await repairSessions();
    }
    const repairTokens = await breakTable(stack.databaseUrl, 'test_fail_token_insert', 'refresh_tokens', 'INSERT', `NEW.user_id = '${userId}'`);
    try {
      expect((await http().post('/auth/login').send({ email, password: second })).status).toBe(500);
    } finally {
      await repairTokens();
    }

    // The console: an administrator looks, ends one session, then all of them.
    const admin = keep(await http().post('/auth/login').send(ADMIN).expect(200)).body;
    await stack
      .adminHttp()
      .get(`/admin/users/${userId}/sessions?include=revoked`)
      .set(...bearer(admin.accessToken))
      .expect(200);
    await stack
      .adminHttp()
      .get(`/admin/audit?userId=${userId}`)
      .set(...bearer(admin.accessToken))
      .expect(200);
    await stack
      .adminHttp()
      .delete(`/admin/sessions/${kiosk.sessionId}`)
      .set(...bearer(admin.accessToken))
      .send({ reason: 'Kiosk left signed in' })
      .expect(200);
    await stack
      .adminHttp()
      .post(`/admin/users/${userId}/sessions/revoke-all`)
      .set(...bearer(admin.accessToken))
      .send({ reason: 'Password reset by support' })
      .expect(200);
    await stack
      .adminHttp()
      .get('/admin/audit')
      .set(...bearer(kiosk.accessToken))
      .expect(401);
    await http().post('/auth/refresh').send({ refreshToken: kiosk.refreshToken }).expect(401);
  }

  /** Each secret, and for tokens the parts a careless log might keep (a JWT's signature). */
  function needles(): Array<[kind: string, value: string]> {
    return [
      ...[...passwords].map((value) => ['password', value] as [string, string]),
      ...[...accessTokens].flatMap((token) => [
        ['access token', token] as [string, string],
        ['access token signature', token.split('.')[2]] as [string, string],
      ]),
      ...[...refreshTokens].map((value) => ['refresh token', value] as [string, string]),
      ['access token secret', stack.runtime.settings.sessions.accessTokenSecret],
    ];
  }

  function leaks(haystacks: readonly string[], found: Array<[kind: string, value: string]>): string[] {
    return found.flatMap(([kind, value]) => {
      const hit = haystacks.find((text) => text.includes(value));
      return hit === undefined ? [] : [`${kind} ${value.slice(0, 12)}... in: ${hit.slice(0, 300)}`];
    });
  }

  it('ran the day it meant to: tokens issued, failures logged with their stacks', () => {
    // Tokens of one session issued within the same second may be the same JWT.
    expect(accessTokens.size).toBeGreaterThanOrEqual(6);
    expect(refreshTokens.size).toBeGreaterThanOrEqual(8);
    expect(passwords.size).toBeGreaterThanOrEqual(10);
    const errors = loggerCalls.filter((call) => call.startsWith('error ') && call.includes('injected failure'));
    expect(errors.length).toBeGreaterThanOrEqual(5);
    expect(errors.every((call) => call.includes('QueryFailedError: injected failure\n    at '))).toBe(true);
  });

  it('wrote one request line per request, with no header, and the token a client put in a URL redacted', () => {
    const lines = stack.logs.requests();
    expect(lines.length).toBeGreaterThanOrEqual(35);
    for (const line of lines) {
      expect(Object.keys(line)).not.toEqual(expect.arrayContaining(['req']));
      expect(Object.keys(line)).not.toEqual(expect.arrayContaining(['res']));
    }
    expect(lines.filter((line) => line.route === '/auth/me' && line.status === 401).map((line) => line.url)).toContain('/auth/me?access_token=%5BRedacted%5D');
    expect(lines.filter((line) => line.route === '/auth/sessions/revoke-all').map((line) => [line.url, line.status])).toContainEqual([
      '/auth/sessions/revoke-all?token=%5BRedacted%5D',
      500,
    ]);
    // The 500s' own error lines carry the stack, through the same logger.
    const errors = stack.logs.entries().filter((entry) => entry.level === 'error' && JSON.stringify(entry).includes('injected failure'));
    expect(errors.some((entry) => typeof (entry.err as { stack?: unknown } | undefined)?.stack === 'string')).toBe(true);
  });

  it('logs no password, access token, refresh token or signing secret', () => {
    expect(leaks([...stack.logs.lines, ...loggerCalls, ...printed], needles())).toEqual([]);
  });

  it('logs no password hash and no refresh token hash either', async () => {
    const hashes = await sql<{ password_hash: string }>(stack.databaseUrl, 'SELECT password_hash FROM users');
    const tokenHashes = [...refreshTokens].flatMap((token) => {
      const digest = createHash('sha256').update(token).digest();
      return [digest.toString('hex'), digest.toString('base64'), digest.toString('base64url')];
    });
    const found = [
      ...hashes.map((row) => ['password hash', row.password_hash] as [string, string]),
      ...tokenHashes.map((hash) => ['refresh token hash', hash] as [string, string]),
    ];
    expect(leaks([...stack.logs.lines, ...loggerCalls, ...printed], found)).toEqual([]);
  });

  it('stores none of them in any column of any table', async () => {
    // Every schema's tables: the library's own schema and whatever else is in the database.
    const tables = await sql<{ table_schema: string; table_name: string }>(
      stack.databaseUrl,
      `SELECT table_schema, table_name FROM information_schema.tables
        WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE' ORDER BY table_schema, table_name`,
    );
    expect(tables.map((t) => `${t.table_schema}.${t.table_name}`)).toEqual(
      expect.arrayContaining(['sessions.users', 'sessions.sessions', 'sessions.refresh_tokens', 'sessions.audit_entries']),
    );
    const rows: string[] = [];
    for (const { table_schema: schema, table_name: table } of tables) {
      // password_hash holds argon2id hashes, checked on their own below.
      const drop = table === 'users' ? ` - 'password_hash'` : '';
      const found = await sql<{ row: string }>(stack.databaseUrl, `SELECT (to_jsonb(t)${drop})::text AS row FROM "${schema}"."${table}" t`);
      rows.push(...found.map((r) => `${table}: ${r.row}`));
    }
    // The search sees what it should: the audit details, and the text the administrator typed.
    expect(rows.some((row) => row.startsWith('audit_entries:') && row.includes('Password reset by support'))).toBe(true);
    expect(leaks(rows, needles())).toEqual([]);
  });

  it('keeps passwords only as argon2id hashes, and refresh tokens only as their SHA-256', async () => {
    const hashes = (await sql<{ password_hash: string }>(stack.databaseUrl, 'SELECT password_hash FROM users')).map((r) => r.password_hash);
    for (const hash of hashes) expect(hash).toMatch(/^\$argon2id\$v=19\$[mtp=\d,]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(leaks(hashes, needles())).toEqual([]);

    const stored = (await sql<{ token_hash: Buffer }>(stack.databaseUrl, 'SELECT token_hash FROM refresh_tokens')).map((r) => r.token_hash.toString('hex'));
    const issued = [...refreshTokens].filter((token) => !madeUp.has(token));
    for (const token of refreshTokens) {
      // Neither the token's text nor the 32 random bytes it encodes.
      expect(stored).not.toContain(Buffer.from(token, 'utf8').toString('hex'));
      expect(stored).not.toContain(Buffer.from(token, 'base64url').toString('hex'));
    }
    // Every token the service issued is there as its hash, and only those.
    const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');
    expect(issued.filter((token) => !stored.includes(hashOf(token)))).toEqual([]);
    expect([...madeUp].filter((token) => stored.includes(hashOf(token)))).toEqual([]);
  });

  it('keeps none of them in Redis, keys or values', async () => {
    const client = createClient({ url: TEST_REDIS_URL });
    await client.connect();
    const entries: string[] = [];
    try {
      for await (const keys of client.scanIterator({ MATCH: `${stack.cachePrefix.replace(/[*?[\]\\]/g, '\\$&')}*`, COUNT: 1_000 })) {
        for (const key of keys) {
          const type = await client.type(key);
          const value =
            type === 'string'
              ? await client.get(key)
              : type === 'hash'
                ? JSON.stringify(await client.hGetAll(key))
                : type === 'set'
                  ? JSON.stringify(await client.sMembers(key))
                  : type === 'zset'
                    ? JSON.stringify(await client.zRange(key, 0, -1))
                    : type === 'list'
                      ? JSON.stringify(await client.lRange(key, 0, -1))
                      : `(${type})`;
          entries.push(`${key} = ${value}`);
        }
      }
    } finally {
      client.destroy();
    }
    expect(entries.length).toBeGreaterThan(0);
    expect(leaks(entries, needles())).toEqual([]);
  });
});
