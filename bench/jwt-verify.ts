import { performance } from 'node:perf_hooks';
import { JwtAccessTokens } from '../libs/sessions/src/infrastructure/security/jwt-access-tokens';

/** Verifications per second of one access token: the CPU floor of every authenticated request. */
export async function measureJwtVerify(iterations = 20_000): Promise<number> {
  const tokens = new JwtAccessTokens('bench-secret-that-is-long-enough-for-hs256', 900);
  const { token } = await tokens.issue({ userId: '0190a5d2-0000-7000-8000-0000000000a1', sessionId: '0190a5d2-0000-7000-8000-0000000000c1' });
  for (let i = 0; i < 2_000; i += 1) await tokens.verify(token);
  const start = performance.now();
  for (let i = 0; i < iterations; i += 1) await tokens.verify(token);
  return iterations / ((performance.now() - start) / 1000);
}

if (require.main === module) {
  void measureJwtVerify().then((perSecond) => console.log(`${Math.round(perSecond)} verifications/s`));
}
