import { randomUUID } from 'node:crypto';
import { bearer, login, meStatus, signUp, uniqueEmail } from '../support/api';
import { AuditRow, sql } from '../support/sql';
import { REVOCATION_LIMIT_FACTOR } from '@app/runtime';
import { GENEROUS_RATE_LIMIT, startTestStack, type TestStack } from '../support/test-app';

const ADMIN = { email: uniqueEmail('admin'), password: 'admin password 1' };

describe('admin console', () => {
  let stack: TestStack;
  let adminToken: string;
  let adminUserId: string;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'admin-e2e', admin: ADMIN });
    const admin = await login(stack, ADMIN.email, ADMIN.password);
    adminToken = admin.accessToken;
    adminUserId = admin.userId;
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('refuses callers without a valid token (401) and non-admins (403)', async () => {
    const [user] = await signUp(stack);
    await stack.adminHttp().get(`/admin/users/${user.userId}/sessions`).expect(401);
    const forbidden = await stack
      .adminHttp()
      .get(`/admin/users/${user.userId}/sessions`)
      .set(...bearer(user.accessToken))
      .expect(403);
    expect(forbidden.headers['content-type']).toMatch(/^application\/problem\+json/);
    await stack
      .adminHttp()
      .get('/admin/audit')
      .set(...bearer(user.accessToken))
      .expect(403);
  });

  it("lists a user's sessions, with revoked ones on request", async () => {
    const [a, b] = await signUp(stack, 2);
    await stack
      .http()
      .delete(`/auth/sessions/${a.sessionId}`)
      .set(...bearer(b.accessToken))
      .expect(200);
    const active = await stack
      .adminHttp()
      .get(`/admin/users/${a.userId}/sessions`)
      .set(...bearer(adminToken))
      .expect(200);
    expect(active.body.sessions.map((s: { id: string }) => s.id)).toEqual([b.sessionId]);
    const all = await stack
      .adminHttp()
      .get(`/admin/users/${a.userId}/sessions?include=revoked`)
      .set(...bearer(adminToken))
      .expect(200);
    expect(all.body.sessions).toEqual([
      expect.objectContaining({ id: b.sessionId, revokedAt: null }),
      expect.objectContaining({ id: a.sessionId, revokedAt: expect.any(String), revokedReason: 'user_revoked' }),
    ]);
    await stack
      .adminHttp()
      .get(`/admin/users/${a.userId}/sessions?include=everything`)
      .set(...bearer(adminToken))
      .expect(400);
    await stack
      .adminHttp()
      .get('/admin/users/not-a-uuid/sessions')
      .set(...bearer(adminToken))
      .expect(400);
  });

  it('force-revokes all sessions of a user, records the admin as the actor, and the admin stays signed in', async () => {
    const devices = await signUp(stack, 2, 'victim');
    const response = await stack
      .adminHttp()
      .post(`/admin/users/${devices[0].userId}/sessions/revoke-all`)
      .set(...bearer(adminToken))
      .send({ reason: 'Credential stuffing from 203.0.113.7' })
      .expect(200);
    expect(response.body).toMatchObject({ revokedCount: 2, effectiveAt: expect.any(String), accessTokensValidUntil: expect.any(String) });
    expect([...response.body.sessionIds].sort()).toEqual(devices.map((d) => d.sessionId).sort());
    for (const device of devices) expect(await meStatus(stack, device.accessToken)).toBe(401);
    expect(await meStatus(stack, adminToken)).toBe(200);

    await stack.settleAudit();
    const rows = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE user_id = $1 AND action = 'sessions.revoke_all' ORDER BY event_id`, [
      devices[0].userId,
    ]);
    expect(rows.map((r) => [r.outcome, r.actor_type, r.actor_id, r.reason])).toEqual([
      ['attempted', 'admin', adminUserId, 'Credential stuffing from 203.0.113.7'],
      ['succeeded', 'admin', adminUserId, 'Credential stuffing from 203.0.113.7'],
    ]);
  });

  it('requires a reason of 3 to 200 characters', async () => {
    const [user] = await signUp(stack);
    for (const body of [{}, { reason: 'no' }, { reason: 'x'.repeat(201) }, { reason: 42 }]) {
      await stack
        .adminHttp()
        .post(`/admin/users/${user.userId}/sessions/revoke-all`)
        .set(...bearer(adminToken))
        .send(body)
        .expect(400);
    }
    expect(await meStatus(stack, user.accessToken)).toBe(200);
  });

  it('ends one session of any user with a reason, 404 when there is none', async () => {
    const [user] = await signUp(stack);
    await stack
      .adminHttp()
      .delete(`/admin/sessions/${user.sessionId}`)
      .set(...bearer(adminToken))
      .send({ reason: 'Lost device reported' })
      .expect(200);
    expect(await meStatus(stack, user.accessToken)).toBe(401);
    await stack
      .adminHttp()
      .delete(`/admin/sessions/${user.sessionId}`)
      .set(...bearer(adminToken))
      .send({ reason: 'Lost device reported' })
      .expect(404);
    await stack
      .adminHttp()
      .delete('/admin/sessions/0190a5d2-0000-7000-8000-000000000000')
      .set(...bearer(adminToken))
      .send({ reason: 'Nothing here' })
      .expect(404);
  });

  describe.each([
    ['DELETE /admin/sessions/:sessionId', (sessionId: string) => stack.adminHttp().delete(`/admin/sessions/${sessionId}`)],
    ['POST /admin/sessions/:sessionId/revoke', (sessionId: string) => stack.adminHttp().post(`/admin/sessions/${sessionId}/revoke`)],
  ] as const)('%s', (_route, revokeOne) => {
    it('ends one session of any user with its reason, audited as Attempted then Succeeded with the admin as actor; 404 once it has ended', async () => {
      const [user, other] = await signUp(stack, 2, 'revoke-one');
      await revokeOne(user.sessionId)
        .set(...bearer(adminToken))
        .send({ reason: 'Phone lost on a train' })
        .expect(200);
      expect(await meStatus(stack, user.accessToken)).toBe(401);
      expect(await meStatus(stack, other.accessToken)).toBe(200);
      const again = await revokeOne(user.sessionId)
        .set(...bearer(adminToken))
        .send({ reason: 'Phone lost on a train' })
        .expect(404);
      expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(again.body).toMatchObject({ status: 404, detail: 'No active session with this id' });

      await stack.settleAudit();
      const rows = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE session_id = $1 AND action = 'session.revoke' ORDER BY event_id`, [
        user.sessionId,
      ]);
      expect(rows.map((r) => [r.outcome, r.user_id, r.actor_type, r.actor_id, r.reason])).toEqual([
        ['attempted', user.userId, 'admin', adminUserId, 'Phone lost on a train'],
        ['succeeded', user.userId, 'admin', adminUserId, 'Phone lost on a train'],
        ['attempted', user.userId, 'admin', adminUserId, 'Phone lost on a train'],
        ['failed', user.userId, 'admin', adminUserId, 'session_not_found'],
      ]);
    });

    it('answers 404 problem+json for an unknown session id, audited as Attempted and Failed', async () => {
      const unknown = randomUUID();
      const response = await revokeOne(unknown)
        .set(...bearer(adminToken))
        .send({ reason: 'Report of a stolen laptop' })
        .expect(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      await stack.settleAudit();
      const rows = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE session_id = $1 ORDER BY event_id`, [unknown]);
      expect(rows.map((r) => [r.action, r.outcome, r.reason])).toEqual([
        ['session.revoke', 'attempted', 'Report of a stolen laptop'],
        ['session.revoke', 'failed', 'session_not_found'],
      ]);
    });

    it('refuses a bad body or a bad id with 400 problem+json and leaves the session alive; 401 without a token, 403 for a non-admin', async () => {
      const [user] = await signUp(stack, 1, 'revoke-one-bad');
      for (const body of [undefined, {}, { reason: 'no' }, { reason: 'x'.repeat(201) }, { reason: 42 }, { reason: 'Valid reason', extra: true }]) {
        const call = revokeOne(user.sessionId).set(...bearer(adminToken));
        const response = await (body === undefined ? call : call.send(body));
        expect({ body, status: response.status, type: response.headers['content-type'] }).toEqual({
          body,
          status: 400,
          type: expect.stringMatching(/^application\/problem\+json/),
        });
      }
      await revokeOne('not-a-uuid')
        .set(...bearer(adminToken))
        .send({ reason: 'Valid reason' })
        .expect(400);
      await revokeOne(user.sessionId).send({ reason: 'Valid reason' }).expect(401);
      await revokeOne(user.sessionId)
        .set(...bearer(user.accessToken))
        .send({ reason: 'Valid reason' })
        .expect(403);
      expect(await meStatus(stack, user.accessToken)).toBe(200);
    });
  });

  it('documents both routes that end one session in OpenAPI, with the same body and answers', async () => {
    const { body: document } = await stack.adminHttp().get('/docs-json').expect(200);
    const byDelete = document.paths['/admin/sessions/{sessionId}'].delete;
    const byPost = document.paths['/admin/sessions/{sessionId}/revoke'].post;
    for (const operation of [byDelete, byPost]) {
      expect(operation.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/AdminReasonRequest' });
      expect(Object.keys(operation.responses).sort()).toEqual(['200', '400', '401', '403', '404', '413', '415', '429', '503']);
      // Either credential: an administrator's Bearer token, or the console session's cookie.
      expect(operation.security).toEqual([{ bearer: [] }, { consoleSession: [] }]);
    }
  });

  it('audits a revocation of an unknown user or session as Attempted and Failed, and answers 404 problem+json', async () => {
    const unknownUser = randomUUID();
    const unknownSession = randomUUID();
    const revokeAll = await stack
      .adminHttp()
      .post(`/admin/users/${unknownUser}/sessions/revoke-all`)
      .set(...bearer(adminToken))
      .send({ reason: 'Compromised account report' })
      .expect(404);
    expect(revokeAll.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(revokeAll.body).toMatchObject({ status: 404, detail: 'No user with this id' });
    const revokeOne = await stack
      .adminHttp()
      .delete(`/admin/sessions/${unknownSession}`)
      .set(...bearer(adminToken))
      .send({ reason: 'Stolen laptop report' })
      .expect(404);
    expect(revokeOne.headers['content-type']).toMatch(/^application\/problem\+json/);
    await stack.settleAudit();

    const byUser = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE user_id = $1 ORDER BY event_id`, [unknownUser]);
    expect(byUser.map((e) => [e.action, e.outcome, e.reason, e.actor_type, e.actor_id])).toEqual([
      ['sessions.revoke_all', 'attempted', 'Compromised account report', 'admin', adminUserId],
      ['sessions.revoke_all', 'failed', 'user_not_found', 'admin', adminUserId],
    ]);
    const bySession = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE session_id = $1 ORDER BY event_id`, [unknownSession]);
    expect(bySession.map((e) => [e.action, e.outcome, e.reason, e.actor_type, e.actor_id])).toEqual([
      ['session.revoke', 'attempted', 'Stolen laptop report', 'admin', adminUserId],
      ['session.revoke', 'failed', 'session_not_found', 'admin', adminUserId],
    ]);
    expect(new Set(byUser.map((e) => e.correlation_id)).size).toBe(1);
    expect(new Set(bySession.map((e) => e.correlation_id)).size).toBe(1);
  });

  it("records the session's owner on an admin revocation of one session", async () => {
    const [user] = await signUp(stack);
    await stack
      .adminHttp()
      .delete(`/admin/sessions/${user.sessionId}`)
      .set(...bearer(adminToken))
      .send({ reason: 'Lost phone reported' })
      .expect(200);
    await stack.settleAudit();
    const [succeeded] = await sql<AuditRow>(
      stack.databaseUrl,
      `SELECT * FROM audit_entries WHERE session_id = $1 AND action = 'session.revoke' AND outcome = 'succeeded'`,
      [user.sessionId],
    );
    expect(succeeded).toMatchObject({ action: 'session.revoke', user_id: user.userId, actor_type: 'admin', actor_id: adminUserId });
  });

  it('answers a per-user audit query with whole operations, the Attempted that knew no user included, and filters by correlationId', async () => {
    const [user] = await signUp(stack, 1, 'triads');
    const refreshed = await stack.http().post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    await stack.http().post('/auth/logout').send({ refreshToken: refreshed.body.refreshToken }).expect(200);
    await stack.settleAudit();

    const page = await stack
      .adminHttp()
      .get(`/admin/audit?userId=${user.userId}&limit=200`)
      .set(...bearer(adminToken))
      .expect(200);
    const byOperation = new Map<string, Array<{ action: string; outcome: string; userId: string | null }>>();
    for (const entry of page.body.entries) byOperation.set(entry.correlationId, [...(byOperation.get(entry.correlationId) ?? []), entry]);
    const operations = [...byOperation.values()].map((entries) => [
      entries[0].action,
      entries
        .map((e) => e.outcome)
        .sort()
        .join('+'),
    ]);
    expect(operations.sort()).toEqual(
      [
        ['tokens.refresh', 'attempted+succeeded'],
        ['user.login', 'attempted+succeeded'],
        ['user.logout', 'attempted+succeeded'],
        ['user.register', 'attempted+succeeded'],
      ].sort(),
    );
    // The Attempted entries of these four did not know the user; they come along with their outcome.
    expect(page.body.entries.filter((e: { outcome: string; userId: string | null }) => e.outcome === 'attempted' && e.userId === null)).toHaveLength(4);

    const [login] = [...byOperation.entries()].find(([, entries]) => entries[0].action === 'user.login')!;
    const one = await stack
      .adminHttp()
      .get(`/admin/audit?correlationId=${login}`)
      .set(...bearer(adminToken))
      .expect(200);
    expect(one.body.entries.map((e: { correlationId: string; outcome: string }) => [e.correlationId, e.outcome])).toEqual([
      [login, 'succeeded'],
      [login, 'attempted'],
    ]);
    const bad = await stack
      .adminHttp()
      .get('/admin/audit?correlationId=nope')
      .set(...bearer(adminToken))
      .expect(400);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(bad.body)).toContain('correlationId must be a UUID');
  });

  it('pages through the audit trail newest first, filtered by user and action', async () => {
    const [user] = await signUp(stack, 1, 'audited');
    for (let i = 0; i < 3; i += 1) await login(stack, user.email, user.password);
    await stack.settleAudit();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/admin/audit?userId=${user.userId}&action=user.login&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await stack
        .adminHttp()
        .get(query)
        .set(...bearer(adminToken))
        .expect(200);
      for (const entry of page.body.entries) {
        expect(entry).toMatchObject({ action: 'user.login', userId: entry.outcome === 'attempted' ? null : user.userId });
        seen.push(entry.eventId);
      }
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(8); // four successful logins, each with its Attempted (which carries no user yet)
    expect([...seen].sort().reverse()).toEqual(seen);
    await stack
      .adminHttp()
      .get('/admin/audit?limit=0')
      .set(...bearer(adminToken))
      .expect(400);
    await stack
      .adminHttp()
      .get('/admin/audit?action=drop.tables')
      .set(...bearer(adminToken))
      .expect(400);
    await stack
      .adminHttp()
      .get('/admin/audit?cursor=abc')
      .set(...bearer(adminToken))
      .expect(400);
  });
});

describe('admin console: the two routes that end one session', () => {
  let stack: TestStack;
  let adminToken: string;
  const PER_USER = 2;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'admin-revoke-budget', admin: ADMIN, settings: { rateLimit: { ...GENEROUS_RATE_LIMIT, perUser: PER_USER } } });
    adminToken = (await login(stack, ADMIN.email, ADMIN.password)).accessToken;
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('share one rate-limit budget: alternating DELETE and POST does not double what an admin may revoke', async () => {
    const budget = PER_USER * REVOCATION_LIMIT_FACTOR;
    const send = (i: number) => {
      const id = randomUUID();
      const call = i % 2 === 0 ? stack.adminHttp().delete(`/admin/sessions/${id}`) : stack.adminHttp().post(`/admin/sessions/${id}/revoke`);
      return call.set(...bearer(adminToken)).send({ reason: 'Bulk clean-up of kiosks' });
    };
    for (let i = 0; i < budget; i += 1) expect((await send(i)).status).toBe(404);
    for (const i of [budget, budget + 1]) {
      const refused = await send(i);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
  });
});
