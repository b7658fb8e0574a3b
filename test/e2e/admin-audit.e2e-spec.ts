import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AUDIT_LOG, type AuditLog } from '../../libs/sessions/src/application/ports/audit-log.port';
import { bearer, login, signUp, uniqueEmail } from '../support/api';
import { sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(120_000);

const ADMIN = { email: uniqueEmail('admin'), password: 'admin password 1' };

interface Entry {
  eventId: string;
  correlationId: string;
  action: string;
  outcome: string;
  occurredAt: string;
  userId: string | null;
  actorId: string | null;
  sessionId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

describe('admin audit trail: filters and export', () => {
  let stack: TestStack;
  let admin: { userId: string; accessToken: string };
  let victim: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'admin-audit-e2e', admin: ADMIN });
    admin = await login(stack, ADMIN.email, ADMIN.password);
    victim = await signUp(stack, 2, 'victim');
    await stack.http().post('/auth/login').send({ email: victim[0].email, password: 'not the password' }).expect(401);
    await stack
      .adminHttp()
      .delete(`/admin/sessions/${victim[0].sessionId}`)
      .set(...bearer(admin.accessToken))
      .send({ reason: 'lost phone' })
      .expect(200);
    await stack.settleAudit();
  });

  afterAll(async () => {
    await stack?.close();
  });

  const audit = (query: string) =>
    stack
      .adminHttp()
      .get(`/admin/audit${query}`)
      .set(...bearer(admin.accessToken));

  /** Every entry the filters match, page after page of `limit`. */
  async function pagedEntries(filters: string, limit: number): Promise<Entry[]> {
    const entries: Entry[] = [];
    let cursor: string | null = null;
    do {
      const response: { body: { entries: Entry[]; nextCursor: string | null } } = await audit(
        `?${filters}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
      ).expect(200);
      entries.push(...response.body.entries);
      cursor = response.body.nextCursor;
    } while (cursor);
    return entries;
  }

  it('filters by actor, outcome, session, client address (any spelling) and time range', async () => {
    const byActor: Entry[] = (await audit(`?actorId=${admin.userId.toUpperCase()}`).expect(200)).body.entries;
    expect(byActor.length).toBeGreaterThan(0);
    expect(byActor.every((entry) => entry.actorId === admin.userId)).toBe(true);
    expect(byActor.map((entry) => entry.action)).toContain('session.revoke');

    const failed: Entry[] = (await audit('?outcome=failed').expect(200)).body.entries;
    expect(failed.map((entry) => entry.action)).toEqual(['user.login']);

    const bySession: Entry[] = (await audit(`?sessionId=${victim[0].sessionId}&action=session.revoke`).expect(200)).body.entries;
    expect(bySession.map((entry) => entry.outcome).sort()).toEqual(['attempted', 'succeeded']);

    const all: Entry[] = (await audit('?limit=200').expect(200)).body.entries;
    const local = all.filter((entry) => entry.ipAddress === '127.0.0.1');
    expect(local.length).toBeGreaterThan(0);
    // The test's requests come from 127.0.0.1, recorded as such; its IPv4-mapped IPv6 spelling finds the same.
    expect((await audit('?ipAddress=::FFFF:127.0.0.1&limit=200').expect(200)).body.entries).toEqual(local);
    expect((await audit('?ipAddress=192.0.2.1').expect(200)).body.entries).toEqual([]);

    const middle = all[Math.floor(all.length / 2)];
    const from = middle.occurredAt;
    const to = new Date(Date.parse(all[0].occurredAt) + 1).toISOString();
    const ranged: Entry[] = (await audit(`?from=${from}&to=${to}&limit=200`).expect(200)).body.entries;
    expect(ranged).toEqual(all.filter((entry) => entry.occurredAt >= from && entry.occurredAt < to));
    expect(ranged.length).toBeLessThan(all.length);
    // `to` is exclusive.
    expect((await audit(`?from=${from}&to=${encodeURIComponent(from.replace('Z', '+00:00'))}`).expect(400)).body.errors).toEqual([
      { field: 'to', messages: ['to must be later than from'] },
    ]);
  });

  it.each([
    ['actorId=42', 'actorId'],
    ['sessionId=x', 'sessionId'],
    ['outcome=done', 'outcome'],
    ['ipAddress=300.1.1.1', 'ipAddress'],
    ['ipAddress=localhost', 'ipAddress'],
    ['from=2026-12-01', 'from'],
    ['from=2026-02-30T00:00:00Z', 'from'],
    ['to=yesterday', 'to'],
    ['from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', 'to'],
    ['prototype=', 'prototype'],
  ])('answers %s with a 400 problem naming %s', async (query, field) => {
    const response = await audit(`?${query}`).expect(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body.errors.map((error: { field: string }) => error.field)).toEqual([field]);
  });

  it('exports exactly the entries paging the API gives, in the same order, as NDJSON and CSV', async () => {
    const filters = `userId=${victim[0].userId}`;
    const paged = await pagedEntries(filters, 3);
    expect(paged.length).toBeGreaterThan(6);

    const ndjson = await stack
      .adminHttp()
      .get(`/admin/audit/export?format=ndjson&${filters}`)
      .set(...bearer(admin.accessToken))
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => done(null, text));
      })
      .expect(200);
    expect(ndjson.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(ndjson.headers['content-disposition']).toMatch(/^attachment; filename="audit-\d{8}T\d{6}Z\.ndjson"$/);
    const lines = (ndjson.body as string).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => JSON.parse(line))).toEqual(paged);

    const csv = await stack
      .adminHttp()
      .get(`/admin/audit/export?format=csv&${filters}`)
      .set(...bearer(admin.accessToken))
      .expect(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="audit-\d{8}T\d{6}Z\.csv"$/);
    const records = csv.text.split('\r\n');
    expect(records.pop()).toBe('');
    expect(records[0]).toBe(
      'eventId,correlationId,occurredAt,action,outcome,userId,actorType,actorId,actorName,sessionId,reason,ipAddress,userAgent,requestId,details',
    );
    expect(records.slice(1).map((record) => record.split(',')[0])).toEqual(paged.map((entry) => entry.eventId));

    await stack
      .adminHttp()
      .get(`/admin/audit/export?format=xml`)
      .set(...bearer(admin.accessToken))
      .expect(400);
    await stack
      .adminHttp()
      .get(`/admin/audit/export?format=csv&limit=5`)
      .set(...bearer(admin.accessToken))
      .expect(400);
    await stack
      .adminHttp()
      .get(`/admin/audit/export?format=csv`)
      .set(...bearer(victim[1].accessToken))
      .expect(403);
  });

  it('streams a large export: the download starts after the first page and a paused reader stops the reads', async () => {
    const ROWS = 20_000;
    const PAGES = ROWS / 500;
    const actorId = '00000000-0000-7000-8000-00000000beef';
    // About 2 kB an entry (40 MB in all): more than the socket buffers between server and client hold.
    await sql(
      stack.databaseUrl,
      `INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, actor_type, actor_id, details)
       SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, gen_random_uuid(), 'user.enable', 'succeeded',
              now(), 'admin', '${actorId}', jsonb_build_object('padding', repeat('x', 2000))
         FROM generate_series(1, ${ROWS}) i`,
    );
    const auditLog = stack.admin.get<symbol, AuditLog>(AUDIT_LOG, { strict: false });
    const pageReads = jest.spyOn(auditLog, 'query');
    await stack.admin.listen(0, '127.0.0.1');
    const { port } = stack.admin.getHttpServer().address() as AddressInfo;
    try {
      const url = `/admin/audit/export?format=ndjson&actorId=${actorId}`;
      const response = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
        const outgoing = httpRequest({ host: '127.0.0.1', port, path: url, headers: { Authorization: `Bearer ${admin.accessToken}` } }, resolve);
        outgoing.on('error', reject);
        outgoing.end();
      });
      expect(response.statusCode).toBe(200);
      const first = await new Promise<Buffer>((resolve) => response.once('data', resolve));
      response.pause();
      expect(first.length).toBeGreaterThan(0);
      const readsAtFirstChunk = pageReads.mock.calls.length;
      expect(readsAtFirstChunk).toBeLessThan(PAGES);
      // Paused: the server fills the socket buffers and then stops asking PostgreSQL for pages.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const readsWhilePaused = pageReads.mock.calls.length;
      expect(readsWhilePaused).toBeLessThan(PAGES / 2);

      let text = first.toString('utf8');
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.resume();
      await new Promise((resolve) => response.on('end', resolve));
      const lines = text.split('\n').filter(Boolean);
      expect(lines).toHaveLength(ROWS);
      expect(JSON.parse(lines[0]).eventId).toBe(`00000000-0000-7000-8000-${ROWS.toString(16).padStart(12, '0')}`);
      expect(JSON.parse(lines[ROWS - 1]).eventId).toBe('00000000-0000-7000-8000-000000000001');
      // The pages of 500 and the last, empty-cursor one.
      expect(pageReads.mock.calls.length).toBe(PAGES);
      console.log(JSON.stringify({ test: 'audit-export-stream', rows: ROWS, readsAtFirstChunk, readsWhilePaused, pages: PAGES }));
    } finally {
      pageReads.mockRestore();
    }
  });
});
