import { Actors, NO_REQUEST_CONTEXT, RevokeAllUserSessions } from '@app/sessions';
import { CommandBus } from '@nestjs/cqrs';
import { bearer, signUp } from '../support/api';
import { RedisServer } from '../support/redis-server';
import { sql, testDatabaseClient } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';
import { printReport } from './harness';

jest.setTimeout(60_000);

/** How long a cache call may take here: long enough that a row lock held across it cannot go unnoticed. */
const CACHE_TIMEOUT_MS = 3_000;

/**
 * Redis that stops answering (SIGSTOP: the socket stays open, nothing comes back), while a
 * revoke-all ends a user's sessions. The revocation must not hold its row locks while it waits for
 * Redis: it commits first, then writes its markers. A concurrent UPDATE of the same sessions goes
 * through at once, not after the Redis timeout; the command still answers only after its marker
 * write gave up, and the session is refused.
 */
describe('a revocation while Redis hangs', () => {
  let redis: RedisServer;
  let stack: TestStack;

  beforeAll(async () => {
    redis = await RedisServer.start();
    stack = await startTestStack({ label: 'slow-redis', redisUrl: redis.url, sessions: { cacheTimeoutMs: CACHE_TIMEOUT_MS } });
  }, 45_000);

  afterAll(async () => {
    if (redis?.running) await redis.signal('SIGCONT').catch(() => undefined);
    await stack?.close();
    await redis?.stop();
  });

  it('holds no row lock across the Redis call: a concurrent UPDATE of the sessions is not blocked', async () => {
    const devices = await signUp(stack, 3, 'slow-redis');
    const { userId } = devices[0];
    for (const device of devices)
      await stack
        .http()
        .get('/auth/me')
        .set(...bearer(device.accessToken))
        .expect(200);
    const bus = stack.web.get(CommandBus);
    const pg = testDatabaseClient(stack.databaseUrl);
    await pg.connect();
    try {
      await redis.signal('SIGSTOP');
      const started = Date.now();
      let answeredAfterMs: number | null = null;
      const revocation = bus.execute(new RevokeAllUserSessions(userId, 'slow redis test', Actors.system(), NO_REQUEST_CONTEXT)).then((outcome) => {
        answeredAfterMs = Date.now() - started;
        return outcome;
      });
      // The revoke statement takes milliseconds; from then on only the Redis write is outstanding.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const updateStarted = Date.now();
      const update = await pg.query(`UPDATE sessions SET last_seen_at = now() WHERE user_id = $1`, [userId]);
      const updateMs = Date.now() - updateStarted;
      const answeredBeforeUpdate = answeredAfterMs !== null;
      expect(update.rowCount).toBe(3);
      // The revocation had committed already: the UPDATE did not wait for its locks.
      expect(updateMs).toBeLessThan(1_000);
      expect(answeredBeforeUpdate).toBe(false);

      await expect(revocation).resolves.toMatchObject({ kind: 'revoked', revokedCount: 3 });
      // It answered only after its own marker write gave up, with the markers queued for the drain.
      expect(answeredAfterMs!).toBeGreaterThanOrEqual(CACHE_TIMEOUT_MS - 100);
      const queued = await sql<{ n: number }>(stack.databaseUrl, `SELECT count(*)::int AS n FROM cache_marker_outbox WHERE user_id = $1`, [userId]);
      expect(queued[0].n).toBeGreaterThanOrEqual(3);
      printReport('A revoke-all while Redis hangs', { concurrentUpdateMs: updateMs, answeredAfterMs: answeredAfterMs!, cacheTimeoutMs: CACHE_TIMEOUT_MS });
    } finally {
      await redis.signal('SIGCONT');
      await pg.end();
    }
    // Refused at once, from PostgreSQL (the cache distrusts itself after the failed write).
    for (const device of devices)
      await stack
        .http()
        .get('/auth/me')
        .set(...bearer(device.accessToken))
        .expect(401);
  });
});
