import { SESSION_CACHE, type SessionCache } from '../../libs/sessions/src/application/ports/session-cache.port';
import type { ReconcilingSessionCache } from '../../libs/sessions/src/application/session-cache/reconciling-session-cache';
import { printReport } from '../resilience/harness';
import { bearer, signUp } from '../support/api';
import { expectEventually } from '../support/eventually';
import { sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(30_000);

/**
 * Two instances on one database and one Redis, and only one of them loses Redis: its
 * revocations commit but cannot write their markers, while the other instance still holds a
 * cached "active" answer for the session. The marker is queued with the revocation and the
 * healthy instance writes it on its next heartbeat (about a second), not after the minute
 * the cached answer would otherwise be trusted. Here no cache listens for notifications and
 * the healthy instance's heartbeat is driven by the test, so the queued state can be observed;
 * the notified path is the next describe.
 */
describe('an instance cut off from Redis while the others are not', () => {
  let a: TestStack;
  let b: TestStack;
  const HOUR = 3_600_000;

  beforeAll(async () => {
    // Every cache of both stacks (each runs a web API and an admin console) drains only when told.
    const quiet = { cacheHeartbeatMs: HOUR, cacheMarkerNotifications: false };
    a = await startTestStack({ label: 'partition', sessions: quiet });
    b = await startTestStack({ label: 'partition-b', shareWith: a, sessions: quiet });
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('gets its revocations enforced by the other instance on its next heartbeat, from the queued markers', async () => {
    const [device] = await signUp(a);
    await b
      .http()
      .get('/auth/me')
      .set(...bearer(device.accessToken))
      .expect(200); // B caches "active"

    // A's Redis adapter (inside its ReconcilingSessionCache) fails the marker write, as a lost connection would.
    const cacheOfA = (a.web.get<SessionCache>(SESSION_CACHE) as unknown as { inner: SessionCache }).inner;
    const markRevoked = cacheOfA.markRevoked.bind(cacheOfA);
    cacheOfA.markRevoked = async () => {
      throw new Error('Redis is not connected');
    };
    try {
      await a.http().post('/auth/logout').send({ refreshToken: device.refreshToken }).expect(200);
      expect(await sql(a.databaseUrl, 'SELECT session_id FROM cache_marker_outbox')).not.toHaveLength(0);
      // A itself refuses at once: it no longer trusts the cache and asks PostgreSQL.
      await a
        .http()
        .get('/auth/me')
        .set(...bearer(device.accessToken))
        .expect(401);

      // Until B's heartbeat, B trusts its cached "active": the window the queue closes.
      await b
        .http()
        .get('/auth/me')
        .set(...bearer(device.accessToken))
        .expect(200);
      await (b.web.get<SessionCache>(SESSION_CACHE) as unknown as ReconcilingSessionCache).heartbeat();
      await b
        .http()
        .get('/auth/me')
        .set(...bearer(device.accessToken))
        .expect(401);
      expect(await sql(a.databaseUrl, 'SELECT session_id FROM cache_marker_outbox')).toHaveLength(0);
    } finally {
      cacheOfA.markRevoked = markRevoked;
    }
  });
});

/**
 * The same partition with the heartbeats out of the way (one an hour): the healthy instances
 * must learn of the queued markers from PostgreSQL (NOTIFY on commit, LISTEN on a connection of
 * their own) and write them at once, not a second later.
 */
describe('an instance cut off from Redis, with no heartbeat to drain the outbox', () => {
  let a: TestStack;
  let b: TestStack;
  const HOUR = 3_600_000;

  beforeAll(async () => {
    a = await startTestStack({ label: 'partition-notify', sessions: { cacheHeartbeatMs: HOUR } });
    b = await startTestStack({ label: 'partition-notify-b', shareWith: a, sessions: { cacheHeartbeatMs: HOUR } });
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('gets its revocations enforced by the other instance within milliseconds, from the notified markers', async () => {
    const cacheOfA = (a.web.get<SessionCache>(SESSION_CACHE) as unknown as { inner: SessionCache }).inner;
    const markRevoked = cacheOfA.markRevoked.bind(cacheOfA);
    cacheOfA.markRevoked = async () => {
      throw new Error('Redis is not connected');
    };
    const refusedAfterMs: number[] = [];
    try {
      for (let round = 0; round < 10; round += 1) {
        const [device] = await signUp(a, 1, `notify-${round}`);
        await b
          .http()
          .get('/auth/me')
          .set(...bearer(device.accessToken))
          .expect(200); // B caches "active"
        await a.http().post('/auth/logout').send({ refreshToken: device.refreshToken }).expect(200);
        const answeredAt = Date.now();
        const status = await expectEventually(
          async () => {
            const { status } = await b
              .http()
              .get('/auth/me')
              .set(...bearer(device.accessToken));
            expect({ round, status }).not.toEqual({ round, status: 200 });
            return status;
          },
          { timeoutMs: 2_000, intervalMs: 0 },
        );
        expect({ round, status }).toEqual({ round, status: 401 });
        refusedAfterMs.push(Date.now() - answeredAt);
      }
    } finally {
      cacheOfA.markRevoked = markRevoked;
    }
    const sorted = [...refusedAfterMs].sort((x, y) => x - y);
    printReport('Markers of a partitioned instance, written by the other on NOTIFY', {
      rounds: sorted.length,
      medianMs: sorted[Math.floor(sorted.length / 2)],
      maxMs: sorted[sorted.length - 1],
    });
    expect(sorted[sorted.length - 1]).toBeLessThan(2_000);
  });
});
