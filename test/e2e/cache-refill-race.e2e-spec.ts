import { Actors, NO_REQUEST_CONTEXT, RevokeSession, SessionAuthenticator } from '@app/sessions';
import { SESSION_CACHE, type SessionCache } from '../../libs/sessions/src/application/ports/session-cache.port';
import { CommandBus } from '@nestjs/cqrs';
import { createClient } from '@keyv/redis';
import { randomUUID } from 'node:crypto';
import { ACCESS_TOKENS, type AccessTokens } from '../../libs/sessions/src/application/ports/access-token.port';
import { SESSION_RECORDS, type SessionRecords } from '../../libs/sessions/src/application/ports/session-records.port';
import { sessionCacheKey } from '../../libs/sessions/src/infrastructure/cache/redis-session-cache';
import { register } from '../support/api';
import { sql } from '../support/sql';
import { startTestStack, TEST_REDIS_URL, type TestStack } from '../support/test-app';

jest.setTimeout(120_000);

const INTERLEAVINGS = 1_000;

/**
 * The cache-refill race: a request reads an active session from PostgreSQL, a revocation
 * commits and marks the session revoked in the cache, then the request writes its stale
 * "active" copy back. The window is forced open on every iteration: the request is held
 * between its database read and its cache write until the revocation has returned.
 */
describe('cache refill racing a revocation', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'refill-race' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  /**
   * `interleavings` forced races; with `distrustedCheck`, the check after each revocation runs
   * with the cache distrusted (as after a Redis call past its timeout), so PostgreSQL answers it.
   */
  async function race(interleavings: number, distrustedCheck: boolean): Promise<void> {
    const { userId } = await register(stack);
    const sessionIds = Array.from({ length: interleavings }, () => randomUUID());
    await sql(
      stack.databaseUrl,
      `INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at)
         SELECT unnest($1::uuid[]), $2, now(), now(), now() + interval '1 day'`,
      [sessionIds, userId],
    );

    const app = stack.web;
    const authenticator = app.get(SessionAuthenticator);
    const sessions = app.get<SessionRecords>(SESSION_RECORDS);
    const cache = app.get<SessionCache>(SESSION_CACHE);
    const tokens = app.get<AccessTokens>(ACCESS_TOKENS);
    const bus = app.get(CommandBus);

    // Hold each request after its database read until the test lets it go on. Only the request
    // under test is held: the check after the revocation also reads PostgreSQL whenever the cache
    // is distrusted (a Redis call past its timeout on a loaded machine), and holding that one too
    // would wait for a release that never comes.
    const held = new Map<string, () => void>();
    const readDone = new Map<string, () => void>();
    const findStatus = sessions.findStatus.bind(sessions);
    sessions.findStatus = async (sessionId) => {
      const status = await findStatus(sessionId);
      const signal = readDone.get(sessionId);
      if (!signal) return status;
      readDone.delete(sessionId);
      signal();
      await new Promise<void>((release) => held.set(sessionId, release));
      return status;
    };
    // Track the refill the request fires after its read, so the check below waits for it.
    const refills: Promise<void>[] = [];
    const rememberActive = cache.rememberActive.bind(cache);
    cache.rememberActive = (...args) => {
      const refill = rememberActive(...args);
      refills.push(refill.catch(() => undefined));
      return refill;
    };

    const redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
    let acceptedAfterRevocation = 0;
    let staleWritesBlocked = 0;
    try {
      for (const sessionId of sessionIds) {
        const { token } = await tokens.issue({ userId, sessionId });
        const read = new Promise<void>((resolve) => readDone.set(sessionId, resolve));
        const request = authenticator.authenticate(token);
        await read; // the request has seen the session active in PostgreSQL

        const outcome = await bus.execute(new RevokeSession(userId, sessionId, 'race test', Actors.system(), NO_REQUEST_CONTEXT));
        expect(outcome.kind).toBe('revoked');

        held.get(sessionId)!(); // the stale request now tries to refill the cache
        await request;
        await Promise.all(refills.splice(0));

        const cached = await redis.get(sessionCacheKey(stack.cachePrefix, userId, sessionId));
        if (cached === 'r') staleWritesBlocked += 1;
        if (distrustedCheck) Object.defineProperty(cache, 'distrusted', { get: () => true, configurable: true });
        try {
          if ((await authenticator.authenticate(token)) !== null) acceptedAfterRevocation += 1;
        } finally {
          if (distrustedCheck) delete (cache as { distrusted?: boolean }).distrusted;
        }
      }
    } finally {
      redis.destroy();
    }
    console.log(
      `cache refill race: ${interleavings} interleavings${distrustedCheck ? ' (checked with the cache distrusted)' : ''}, ${staleWritesBlocked} stale refills blocked, ${acceptedAfterRevocation} accepted after revocation`,
    );
    expect(acceptedAfterRevocation).toBe(0);
    expect(staleWritesBlocked).toBe(interleavings);
    sessions.findStatus = findStatus;
    cache.rememberActive = rememberActive;
  }

  it(`never resurrects a revoked session (${INTERLEAVINGS} forced interleavings)`, () => race(INTERLEAVINGS, false));

  // The check goes to PostgreSQL, through the held read: only the request under test may be held.
  it('refuses the revoked session from PostgreSQL when the cache is distrusted for the check (20 forced interleavings)', () => race(20, true));
});
