import { SESSION_CACHE, type SessionCache } from '@app/sessions';
import { bearer, signUp } from '../support/api';
import { sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(30_000);

/**
 * Two instances on one database and one Redis, and only one of them loses Redis: its
 * revocations commit but cannot write their markers, while the other instance still holds a
 * cached "active" answer for the session. The marker is queued with the revocation and the
 * healthy instance writes it on its next heartbeat (about a second), not after the minute
 * the cached answer would otherwise be trusted.
 */
describe('an instance cut off from Redis while the others are not', () => {
  let a: TestStack;
  let b: TestStack;

  beforeAll(async () => {
    a = await startTestStack({ label: 'partition' });
    b = await startTestStack({ label: 'partition-b', shareWith: a });
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("gets its revocations enforced by the other instance within a few seconds, from the queued markers", async () => {
    const [device] = await signUp(a);
    await b.http().get('/auth/me').set(...bearer(device.accessToken)).expect(200); // B caches "active"

    // A's Redis adapter (inside its ReconcilingSessionCache) fails the marker write, as a lost connection would.
    const cacheOfA = (a.web.get<SessionCache>(SESSION_CACHE) as unknown as { inner: SessionCache }).inner;
    const markRevoked = cacheOfA.markRevoked.bind(cacheOfA);
    cacheOfA.markRevoked = async () => {
      throw new Error('Redis is not connected');
    };
    try {
      await a.http().post('/auth/logout').send({ refreshToken: device.refreshToken }).expect(204);
      expect(await sql(a.databaseUrl, 'SELECT session_id FROM cache_marker_outbox')).not.toHaveLength(0);
      // A itself refuses at once: it no longer trusts the cache and asks PostgreSQL.
      await a.http().get('/auth/me').set(...bearer(device.accessToken)).expect(401);

      const started = Date.now();
      let status = 200;
      while (status === 200 && Date.now() - started < 5_000) {
        status = (await b.http().get('/auth/me').set(...bearer(device.accessToken))).status;
        if (status === 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(401);
      expect(await sql(a.databaseUrl, 'SELECT session_id FROM cache_marker_outbox')).toHaveLength(0);
    } finally {
      cacheOfA.markRevoked = markRevoked;
    }
  });
});
