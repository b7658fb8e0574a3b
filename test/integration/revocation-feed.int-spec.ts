import { createHash, randomUUID } from 'node:crypto';
import { appendRevocationFeedSql, readRevocationFeedSql } from '../../libs/sessions/src/infrastructure/typeorm/revocation-feed.sql';
import { bearer, signUp } from '../support/api';
import { ExpiredSessionsPurge } from '../../libs/sessions/src/application/purge-expired-sessions/expired-sessions-purge';
import { sql, testDatabaseClient, TEST_SESSIONS_SCHEMA } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(60_000);

const SECRET = `feed-reader-${randomUUID()}`;
const OTHER_SECRET = `other-service-${randomUUID()}`;
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

interface FeedBody {
  revocations: Array<{ sessionId: string; userId: string; revokedAt: string; accessTokensValidUntil: string }>;
  nextCursor: string;
}

/**
 * GET /revocations (issue 13 point 7) against real PostgreSQL: who may read it, what an entry
 * says, and the ordering that no late commit can slip behind.
 */
describe('the revocation feed', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      label: 'revocation-feed',
      settings: {
        serviceClients: [
          { name: 'other', secretSha256: sha256(OTHER_SECRET) },
          { name: 'verifier', secretSha256: sha256(SECRET) },
        ],
      },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  const poll = async (after?: string, secret = SECRET) => {
    const request = stack
      .http()
      .get('/revocations')
      .query(after === undefined ? {} : { after })
      .set(...bearer(secret));
    const response = await request;
    return response;
  };
  const page = async (after?: string): Promise<FeedBody> => {
    const response = await poll(after);
    expect(response.status).toBe(200);
    return response.body as FeedBody;
  };
  /** Everything after `cursor`, page by page. */
  const drain = async (cursor: string): Promise<{ entries: FeedBody['revocations']; cursor: string }> => {
    const entries: FeedBody['revocations'] = [];
    for (;;) {
      const body = await page(cursor);
      entries.push(...body.revocations);
      if (body.revocations.length === 0) return { entries, cursor: body.nextCursor };
      cursor = body.nextCursor;
    }
  };

  it('answers 401 problem+json without a service client secret, with a wrong one and with a user access token', async () => {
    const [user] = await signUp(stack, 1, 'feed-auth');
    for (const authorization of [
      undefined,
      'Bearer not-the-secret',
      `Bearer ${user.accessToken}`,
      `Basic ${Buffer.from(`verifier:${SECRET}`).toString('base64')}`,
      SECRET,
    ]) {
      const request = stack.http().get('/revocations');
      const response = await (authorization === undefined ? request : request.set('Authorization', authorization));
      expect(response.status).toBe(401);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({ status: 401, code: 'service_client_required' });
    }
    // Each configured client's own secret works; and the secret is no user token.
    expect((await poll(undefined, OTHER_SECRET)).status).toBe(200);
    expect(
      (
        await stack
          .http()
          .get('/auth/me')
          .set(...bearer(SECRET))
      ).status,
    ).toBe(401);
  });

  it('refuses a malformed cursor or limit with a 400 problem', async () => {
    for (const query of [{ after: 'abc' }, { after: '1-' }, { after: '99999999999999999999999-1' }, { limit: '0' }, { limit: '1001' }, { limit: 'ten' }]) {
      const response = await stack
        .http()
        .get('/revocations')
        .query(query)
        .set(...bearer(SECRET));
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('delivers each revocation once, with the receipt’s accessTokensValidUntil, and then nothing', async () => {
    const { cursor: start } = await drain('0-0');
    const [first, second] = await signUp(stack, 2, 'feed-entry');
    const receipt = await stack.http().post('/auth/logout').send({ refreshToken: first.refreshToken }).expect(200);
    const revokeAll = await stack
      .http()
      .post('/auth/sessions/revoke-all')
      .set(...bearer(second.accessToken));
    expect(revokeAll.status).toBeLessThan(300);
    const { entries, cursor } = await drain(start);
    expect(entries).toEqual([
      { sessionId: first.sessionId, userId: first.userId, revokedAt: receipt.body.effectiveAt, accessTokensValidUntil: receipt.body.accessTokensValidUntil },
      {
        sessionId: second.sessionId,
        userId: second.userId,
        revokedAt: revokeAll.body.effectiveAt,
        accessTokensValidUntil: revokeAll.body.accessTokensValidUntil,
      },
    ]);
    // A poll with nothing new: no entry, the same cursor.
    await expect(page(cursor)).resolves.toEqual({ revocations: [], nextCursor: cursor });
  });

  it('still delivers a revocation whose transaction commits after a later one, and never a rolled-back one', async () => {
    const { cursor: start } = await drain('0-0');
    const early = testDatabaseClient(stack.databaseUrl);
    const doomed = testDatabaseClient(stack.databaseUrl);
    await early.connect();
    await doomed.connect();
    try {
      const lateUser = randomUUID();
      const lateSession = randomUUID();
      // A revocation's transaction that writes its feed row first and commits last (as a slow revocation does).
      await early.query('BEGIN');
      await early.query(appendRevocationFeedSql(TEST_SESSIONS_SCHEMA), [lateUser, [lateSession], new Date(), new Date(Date.now() + 900_000)]);
      await doomed.query('BEGIN');
      await doomed.query(appendRevocationFeedSql(TEST_SESSIONS_SCHEMA), [randomUUID(), [randomUUID()], new Date(), new Date(Date.now() + 900_000)]);
      // A later revocation, committed at once.
      const [user] = await signUp(stack, 1, 'feed-order');
      await stack.http().post('/auth/logout').send({ refreshToken: user.refreshToken }).expect(200);

      // While the earlier transaction is open, the later row is held back too: a cursor past it would pass the earlier one.
      const held = await page(start);
      expect(held).toEqual({ revocations: [], nextCursor: start });

      await doomed.query('ROLLBACK');
      await early.query('COMMIT');
      const { entries } = await drain(start);
      expect(entries.map((entry) => entry.sessionId)).toEqual([lateSession, user.sessionId]);
    } finally {
      await early.end();
      await doomed.end();
    }
  });

  it('loses its entries to the purge once their accessTokensValidUntil has passed (by a minute of clock slack), and keeps the others', async () => {
    const fresh = randomUUID();
    const url = stack.databaseUrl;
    const feedRow = (sessionId: string, validUntilMsAgo: number) =>
      sql(url, appendRevocationFeedSql(TEST_SESSIONS_SCHEMA), [randomUUID(), [sessionId], new Date(), new Date(Date.now() - validUntilMsAgo)]);
    const [stale, slack] = [randomUUID(), randomUUID()];
    await feedRow(stale, 61_000);
    await feedRow(slack, 30_000);
    await feedRow(fresh, -900_000);
    await stack.web.get(ExpiredSessionsPurge).run();
    const left = await sql<{ session_id: string }>(
      url,
      `SELECT session_id::text FROM ${TEST_SESSIONS_SCHEMA}.revocation_feed WHERE session_id = ANY ($1::uuid[])`,
      [[stale, slack, fresh]],
    );
    expect(left.map((row) => row.session_id).sort()).toEqual([slack, fresh].sort());
  });

  it('reads a poll as one range of the primary key', async () => {
    const client = testDatabaseClient(stack.databaseUrl);
    await client.connect();
    try {
      // A feed of 50,000 entries (last test of the file: these stay), then a poll near its end.
      await client.query(
        `INSERT INTO ${TEST_SESSIONS_SCHEMA}.revocation_feed (xid, user_id, session_id, revoked_at, access_tokens_valid_until)
         SELECT n::text::xid8, gen_random_uuid(), gen_random_uuid(), now(), now() + interval '15 minutes' FROM generate_series(1, 50000) n`,
      );
      await client.query(`ANALYZE ${TEST_SESSIONS_SCHEMA}.revocation_feed`);
      const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${readRevocationFeedSql(TEST_SESSIONS_SCHEMA)}`, ['49990', '0', 500]);
      expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Index (Only )?Scan using revocation_feed_pkey/);
    } finally {
      await client.end();
    }
  });
});
