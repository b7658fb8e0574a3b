import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import type { Response } from 'supertest';
import { meStatus, signUp, type SignedIn } from '../support/api';
import { AuditRow, brokenTriads, sql } from '../support/sql';
import { TcpProxy } from '../support/tcp-proxy';
import { GENEROUS_RATE_LIMIT, startTestStack, type TestStack } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(60_000);

const SECRET = 'oauth-revoke-secret-that-is-long-enough-for-hs256';
const FORM = 'application/x-www-form-urlencoded';

/** An access token signed with the service's secret: how an expired one is made without waiting 15 minutes. */
function signedAccessToken(claims: Record<string, unknown>): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

/** The ports Node's fetch refuses (the Fetch standard's "bad port" list); listen(0) must not land on one. */
const FETCH_BAD_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137,
  139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049,
  3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

const revoke = (stack: TestStack, form: string, userAgent = 'oauth-revoke-test') =>
  stack.http().post('/oauth/revoke').set('Content-Type', FORM).set('User-Agent', userAgent).send(form);
const refresh = (stack: TestStack, refreshToken: string) => stack.http().post('/auth/refresh').send({ refreshToken });
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** The headers an answer carries, but for those that differ on every answer anyway (its date and request id). */
function stableHeaders(response: Response): Record<string, string> {
  const { date: _date, 'x-request-id': _requestId, ...rest } = response.headers as Record<string, string>;
  return rest;
}

describe('POST /oauth/revoke (RFC 7009)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'oauth-revoke', sessions: { accessTokenSecret: SECRET } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  async function sessionRow(sessionId: string) {
    const [row] = await sql(stack.databaseUrl, 'SELECT revoked_at, revoked_reason, revoked_by FROM sessions WHERE id = $1', [sessionId]);
    return row;
  }

  /** The audit entries of the requests sent with this User-Agent, as [action, outcome, reason]. */
  async function auditOf(userAgent: string): Promise<Array<[string, string, string | null]>> {
    await stack.settleAudit();
    const rows = await sql<AuditRow>(stack.databaseUrl, 'SELECT * FROM audit_entries WHERE user_agent = $1 ORDER BY event_id', [userAgent]);
    return rows.map((row) => [row.action, row.outcome, row.reason]);
  }

  async function expectEnded(device: SignedIn, reason: string): Promise<void> {
    expect(await sessionRow(device.sessionId)).toMatchObject({ revoked_at: expect.any(Date), revoked_reason: reason });
    expect(await meStatus(stack, device.accessToken)).toBe(401);
    await refresh(stack, device.refreshToken).expect(401);
  }

  describe('revoking', () => {
    it('ends the session of a refresh token as a logout does: 200, no body, no-store, the audited logout', async () => {
      const [device, bystander] = await signUp(stack, 2, 'by-refresh');
      const userAgent = `revoke-${randomUUID()}`;
      const response = await revoke(stack, form({ token: device.refreshToken, token_type_hint: 'refresh_token' }), userAgent);
      expect(response.status).toBe(200);
      expect(response.text).toBe('');
      expect(response.headers['content-length']).toBe('0');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['pragma']).toBe('no-cache');
      await expectEnded(device, 'logout');
      expect(await meStatus(stack, bystander.accessToken)).toBe(200);
      expect(await auditOf(userAgent)).toEqual([
        ['user.logout', 'attempted', 'logout'],
        ['user.logout', 'succeeded', 'logout'],
      ]);
      expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
    });

    it('ends the session of a valid access token as its user would, and only that session', async () => {
      const [device, bystander] = await signUp(stack, 2, 'by-access');
      const userAgent = `revoke-${randomUUID()}`;
      const response = await revoke(stack, form({ token: device.accessToken, token_type_hint: 'access_token' }), userAgent);
      expect([response.status, response.text]).toEqual([200, '']);
      await expectEnded(device, 'user_revoked');
      expect((await sessionRow(device.sessionId)).revoked_by).toBe(device.userId);
      expect(await meStatus(stack, bystander.accessToken)).toBe(200);
      await refresh(stack, bystander.refreshToken).expect(200);
      const rows = await sql<AuditRow>(stack.databaseUrl, 'SELECT * FROM audit_entries WHERE user_agent = $1 ORDER BY event_id', [userAgent]);
      expect(rows.map((row) => [row.action, row.outcome, row.actor_type, row.actor_id, row.session_id])).toEqual([
        ['session.revoke', 'attempted', 'user', device.userId, device.sessionId],
        ['session.revoke', 'succeeded', 'user', device.userId, device.sessionId],
      ]);
    });

    it.each([
      ['a refresh token hinted as an access token', 'refreshToken', 'access_token', 'logout'],
      ['an access token hinted as a refresh token', 'accessToken', 'refresh_token', 'user_revoked'],
      ['a refresh token with no hint', 'refreshToken', undefined, 'logout'],
      ['an access token with no hint', 'accessToken', undefined, 'user_revoked'],
      // RFC 6749 §3.1: a field sent without a value is an absent one.
      ['an access token with an empty hint', 'accessToken', '', 'user_revoked'],
    ] as const)('revokes %s: the hint only orders the search (§2.1)', async (_case, kind, hint, reason) => {
      const [device] = await signUp(stack, 1, 'hint');
      await revoke(stack, form({ token: device[kind], ...(hint === undefined ? {} : { token_type_hint: hint }) })).expect(200, '');
      await expectEnded(device, reason);
    });

    it('ignores fields it does not know, client_id included (a public client sends it)', async () => {
      const [device] = await signUp(stack, 1, 'client-id');
      await revoke(stack, form({ token: device.refreshToken, client_id: 'web-app', scope: 'x' })).expect(200, '');
      await expectEnded(device, 'logout');
    });

    it('takes the form at /oauth/revoke/ too, and never reads a token from the query string', async () => {
      const [device] = await signUp(stack, 1, 'path');
      await stack
        .http()
        .post('/oauth/revoke/')
        .set('Content-Type', FORM)
        .send(form({ token: device.refreshToken }))
        .expect(200, '');
      await expectEnded(device, 'logout');
      const [other] = await signUp(stack, 1, 'query');
      const inQuery = await stack.http().post(`/oauth/revoke?token=${other.refreshToken}`).set('Content-Type', FORM).send('');
      expect([inQuery.status, inQuery.body]).toEqual([400, { error: 'invalid_request', error_description: 'The token parameter is required' }]);
      expect(await meStatus(stack, other.accessToken)).toBe(200);
    });
  });

  describe('tokens that end nothing: the same answer, and the same lookup', () => {
    it('answers unknown, expired, malformed and already revoked tokens alike, and each costs one audited refresh-token lookup', async () => {
      const [revokedByRefresh] = await signUp(stack, 1, 'gone-refresh');
      await revoke(stack, form({ token: revokedByRefresh.refreshToken })).expect(200);
      const [revokedByAccess] = await signUp(stack, 1, 'gone-access');
      await revoke(stack, form({ token: revokedByAccess.accessToken })).expect(200);
      const [bystander] = await signUp(stack, 1, 'bystander');
      const now = Math.floor(Date.now() / 1000);
      const cases: Array<[string, string]> = [
        ['unknown refresh token', randomBytes(32).toString('base64url')],
        ['already revoked refresh token', revokedByRefresh.refreshToken],
        ['access token of a revoked session', revokedByAccess.accessToken],
        ['expired access token of a live session', signedAccessToken({ sub: bystander.userId, sid: bystander.sessionId, iat: now - 1_000, exp: now - 100 })],
        [
          'access token signed with another key',
          `${bystander.accessToken.slice(0, bystander.accessToken.lastIndexOf('.'))}.${randomBytes(32).toString('base64url')}`,
        ],
        ['malformed: one character', 'x'],
        ['malformed: 42 base64url characters', 'a'.repeat(42)],
        ['malformed: spaces, a NUL and non-ASCII', ' tok\u0000en é 🔑 '],
        ['malformed: 8 kB', 'z'.repeat(8_000)],
      ];
      const answers: Array<{ name: string; status: number; body: string; headers: Record<string, string> }> = [];
      for (const [name, token] of cases) {
        for (const hint of [undefined, 'refresh_token', 'access_token']) {
          const userAgent = `nothing-${randomUUID()}`;
          const response = await revoke(stack, form({ token, ...(hint ? { token_type_hint: hint } : {}) }), userAgent);
          answers.push({ name: `${name} (hint ${hint ?? 'none'})`, status: response.status, body: response.text, headers: stableHeaders(response) });
          // The same work as an unknown refresh token: one logout that ended nothing. (Timed by hand,
          // 21 interleaved rounds: a malformed or expired token took 0.8 to 1.1 of an unknown one's
          // median time, 0.45 without the stand-in lookup. Not asserted: a timed test flakes under load.)
          expect({ name, audit: await auditOf(userAgent) }).toEqual({
            name,
            audit: [
              ['user.logout', 'attempted', 'logout'],
              ['user.logout', 'failed', name === 'already revoked refresh token' ? 'token_already_revoked' : 'token_not_found'],
            ],
          });
        }
      }
      const first = answers[0];
      for (const answer of answers) expect(answer).toEqual({ ...first, name: answer.name });
      expect(first).toMatchObject({ status: 200, body: '' });
      expect(await meStatus(stack, bystander.accessToken)).toBe(200);
      expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
    });
  });

  describe('refusals', () => {
    /** Sends the form, and checks the OAuth error (RFC 6749 §5.2) and that nothing was ended or written. */
    async function expectOAuthError(body: string, error: string): Promise<void> {
      const [device] = await signUp(stack, 1, 'refused');
      const userAgent = `refused-${randomUUID()}`;
      const response = await revoke(stack, body.replaceAll('TOKEN', device.refreshToken), userAgent);
      expect({ body, status: response.status, json: JSON.parse(response.text) }).toEqual({
        body,
        status: 400,
        json: { error, error_description: expect.any(String) },
      });
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(await meStatus(stack, device.accessToken)).toBe(200);
      expect(await auditOf(userAgent)).toEqual([]);
    }

    it.each([
      ['no token', 'token_type_hint=refresh_token', 'invalid_request'],
      ['an empty token', 'token=&token_type_hint=refresh_token', 'invalid_request'],
      ['an empty body', '', 'invalid_request'],
      ['the token twice', 'token=TOKEN&token=TOKEN', 'invalid_request'],
      ['the hint twice', 'token=TOKEN&token_type_hint=refresh_token&token_type_hint=refresh_token', 'invalid_request'],
      ['no token and an unsupported hint', 'token_type_hint=id_token', 'invalid_request'],
      ['a hint naming a type this server does not revoke', 'token=TOKEN&token_type_hint=id_token', 'unsupported_token_type'],
      ['a hint of another spelling', 'token=TOKEN&token_type_hint=Refresh_Token', 'unsupported_token_type'],
    ])('answers %s with its 400 OAuth error, changing nothing', async (_case, body, error) => {
      await expectOAuthError(body, error);
    });

    it('answers a request with no body at all with invalid_request', async () => {
      const response = await stack.http().post('/oauth/revoke');
      expect([response.status, response.body.error]).toEqual([400, 'invalid_request']);
    });

    it('refuses JSON there with a 415 problem, and a form everywhere else as before', async () => {
      const [device] = await signUp(stack, 1, 'json');
      const json = await stack.http().post('/oauth/revoke').send({ token: device.refreshToken });
      expect([json.status, json.headers['content-type'], json.body.detail]).toEqual([
        415,
        'application/problem+json; charset=utf-8',
        expect.stringContaining('application/x-www-form-urlencoded'),
      ]);
      for (const path of ['/auth/logout', '/auth/refresh']) {
        const formThere = await stack
          .http()
          .post(path)
          .set('Content-Type', FORM)
          .send(form({ refreshToken: device.refreshToken }));
        expect({ path, status: formThere.status, detail: formThere.body.detail }).toEqual({
          path,
          status: 415,
          detail: expect.stringContaining('application/json'),
        });
      }
      expect(await meStatus(stack, device.accessToken)).toBe(200);
    });

    it('is not served on GET', async () => {
      await stack.http().get('/oauth/revoke').expect(404);
    });
  });

  describe('with oauth4webapi, the client library, over a real port', () => {
    let as: oauth.AuthorizationServer;
    const client: oauth.Client = { client_id: 'web-app' };

    beforeAll(async () => {
      await stack.web.listen(0, '127.0.0.1');
      const url = new URL(await stack.web.getUrl());
      if (FETCH_BAD_PORTS.has(Number(url.port))) throw new Error(`listen(0) gave ${url.port}, a port Node's fetch refuses`);
      as = { issuer: url.origin, revocation_endpoint: new URL('/oauth/revoke', url).toString() };
    });

    /** revocationRequest + processRevocationResponse, as a public client (no client authentication) over plain HTTP. */
    async function revokeWithClient(token: string, hint?: string): Promise<void> {
      const response = await oauth.revocationRequest(as, client, oauth.None(), token, {
        [oauth.allowInsecureRequests]: true,
        additionalParameters: hint === undefined ? undefined : { token_type_hint: hint },
      });
      await oauth.processRevocationResponse(response);
    }

    it('revokes a refresh token: /auth/me then refuses its access token, the refresh its refresh token, and the trail has the logout', async () => {
      const [device] = await signUp(stack, 1, 'client-refresh');
      await expect(revokeWithClient(device.refreshToken, 'refresh_token')).resolves.toBeUndefined();
      expect(await meStatus(stack, device.accessToken)).toBe(401);
      await refresh(stack, device.refreshToken).expect(401);
      await stack.settleAudit();
      const rows = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE action = 'user.logout' AND session_id = $1 ORDER BY event_id`, [
        device.sessionId,
      ]);
      const triad = await sql<AuditRow>(stack.databaseUrl, 'SELECT * FROM audit_entries WHERE correlation_id = $1 ORDER BY event_id', [rows[0].correlation_id]);
      expect(triad.map((row) => [row.action, row.outcome, row.session_id ?? null])).toEqual([
        ['user.logout', 'attempted', null],
        ['user.logout', 'succeeded', device.sessionId],
      ]);
    });

    it('revokes an access token, hinted or not', async () => {
      const [hinted, unhinted] = await signUp(stack, 2, 'client-access');
      await expect(revokeWithClient(hinted.accessToken, 'access_token')).resolves.toBeUndefined();
      await expect(revokeWithClient(unhinted.accessToken)).resolves.toBeUndefined();
      for (const device of [hinted, unhinted]) await expectEnded(device, 'user_revoked');
    });

    it('succeeds for an unknown token, and reports unsupported_token_type as an OAuth error', async () => {
      await expect(revokeWithClient(randomBytes(32).toString('base64url'))).resolves.toBeUndefined();
      const [device] = await signUp(stack, 1, 'client-unsupported');
      const refused = await revokeWithClient(device.refreshToken, 'id_token').catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(oauth.ResponseBodyError);
      expect(refused).toMatchObject({ error: 'unsupported_token_type', status: 400 });
      expect(await meStatus(stack, device.accessToken)).toBe(200);
    });
  });
});

describe('POST /oauth/revoke with a rate limit', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'oauth-revoke-limit', settings: { rateLimit: { ...GENEROUS_RATE_LIMIT, perIp: 1_000, perAccount: 3 } } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('limits the requests for one token, as the logout and the refresh are, with a 429 problem and Retry-After', async () => {
    const token = randomBytes(32).toString('base64url');
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i += 1) {
      last = await revoke(stack, form({ token }));
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    await revoke(stack, form({ token: randomBytes(32).toString('base64url') })).expect(200);
  });
});

describe('POST /oauth/revoke while PostgreSQL is unreachable', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let stack: TestStack;

  beforeAll(async () => {
    // The database's own proxy, cut under the service: the shared server itself is never touched.
    database = await createTestDatabase();
    proxy = await TcpProxy.start('127.0.0.1', 5432);
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    stack = await startTestStack({ label: 'oauth-revoke-pg-down', databaseUrl: viaProxy.toString() });
  });

  afterAll(async () => {
    proxy?.restore();
    await stack?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('answers 503 with Retry-After for every kind of token, ends nothing, and revokes again once it is back', async () => {
    const [byRefresh, byAccess] = await signUp(stack, 2, 'pg-down');
    // Warm the cache, so the access token's own check passes without PostgreSQL and its revocation is what fails.
    expect(await meStatus(stack, byAccess.accessToken)).toBe(200);
    proxy.cut('refuse');
    try {
      for (const token of [byRefresh.refreshToken, byAccess.accessToken, randomBytes(32).toString('base64url'), 'malformed']) {
        const response = await revoke(stack, form({ token }));
        expect({ token, status: response.status, type: response.headers['content-type'], retryAfter: response.headers['retry-after'] }).toEqual({
          token,
          status: 503,
          type: 'application/problem+json; charset=utf-8',
          retryAfter: '5',
        });
      }
    } finally {
      proxy.restore();
    }
    expect(await meStatus(stack, byRefresh.accessToken)).toBe(200);
    expect(await meStatus(stack, byAccess.accessToken)).toBe(200);
    await revoke(stack, form({ token: byRefresh.refreshToken })).expect(200);
    await revoke(stack, form({ token: byAccess.accessToken })).expect(200);
    expect(await meStatus(stack, byRefresh.accessToken)).toBe(401);
    expect(await meStatus(stack, byAccess.accessToken)).toBe(401);
  });
});
