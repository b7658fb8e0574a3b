import { type AuthCheckMode, loadRuntimeSettings } from '@app/runtime';
import { createClient } from '@keyv/redis';
import { sessionCacheKey } from '../../libs/sessions/src/infrastructure/cache/redis-session-cache';
import { bearer, meStatus, signUp } from '../support/api';
import { startTestStack, TEST_REDIS_URL, type TestStack } from '../support/test-app';

/**
 * BENCHMARK_AUTH_CHECK belongs to the apps' runtime, not to the library: in a benchmark run the
 * app modules swap the SessionAuthenticator their guards resolve. Each mode must still measure
 * what it says: `signature-only` never asks whether the session is active, `no-cache` asks
 * PostgreSQL every time and never the cache, `session` is the library's own check.
 */

const EXPECTED: Record<AuthCheckMode, { afterLogout: number; cached: boolean }> = {
  session: { afterLogout: 401, cached: true },
  'signature-only': { afterLogout: 200, cached: false },
  'no-cache': { afterLogout: 401, cached: false },
};

describe.each(Object.keys(EXPECTED) as AuthCheckMode[])('BENCHMARK_AUTH_CHECK=%s', (mode) => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: `bench-${mode}`, settings: { benchmarkAuthCheck: mode } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it(`accepts a live session's token, ${EXPECTED[mode].cached ? 'caching' : 'without caching'} its answer, and answers ${EXPECTED[mode].afterLogout} once it is logged out`, async () => {
    const [device] = await signUp(stack, 1, 'bench');
    const redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
    try {
      const key = sessionCacheKey(stack.cachePrefix, device.userId, device.sessionId);
      await redis.del(key);
      expect(await meStatus(stack, device.accessToken)).toBe(200);
      // The library's check remembers the answer in the background: wait for it (up to 5 s, a
      // loaded machine's background write), or, where nothing is cached, give it 200 ms to be wrong.
      const deadline = Date.now() + (EXPECTED[mode].cached ? 5_000 : 200);
      while (Date.now() < deadline && (await redis.exists(key)) === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await redis.exists(key)).toBe(EXPECTED[mode].cached ? 1 : 0);
    } finally {
      redis.destroy();
    }
    await stack
      .http()
      .post('/auth/logout')
      .set(...bearer(device.accessToken))
      .send({ refreshToken: device.refreshToken })
      .expect(200);
    expect(await meStatus(stack, device.accessToken)).toBe(EXPECTED[mode].afterLogout);
  });
});

const SECRET = 'a-secret-that-is-long-enough-for-hs256-tokens';

describe('the runtime settings', () => {
  it('take the mode from BENCHMARK_AUTH_CHECK (development and test only)', () => {
    expect(loadRuntimeSettings({ NODE_ENV: 'test', ACCESS_TOKEN_SECRET: SECRET, BENCHMARK_AUTH_CHECK: 'no-cache' }).settings.benchmarkAuthCheck).toBe(
      'no-cache',
    );
    expect(loadRuntimeSettings({ NODE_ENV: 'test', ACCESS_TOKEN_SECRET: SECRET }).settings.benchmarkAuthCheck).toBe('session');
  });
});
