import { createHmac } from 'node:crypto';
import { SESSIONS_DEFAULTS } from '@app/sessions';
import { bearer, meStatus, signUp } from '../support/api';
import { startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(60_000);

const SECRET = 'token-claims-secret-that-is-long-enough-for-hs256';

/** A token signed with the service's own secret, as someone who learnt it would make one. */
function forge(claims: Record<string, unknown>): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

/**
 * The access-token check accepts only tokens this service could have issued: canonical ids
 * (issue 8 #17: an upper-case sid was cached "active" under its own key and outlived the
 * logout) and no lifetime beyond the configured one (issue 8 #5: a ten-year token).
 */
describe('access-token claims', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'token-claims', sessions: { accessTokenSecret: SECRET } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  const now = () => Math.floor(Date.now() / 1000);

  it('refuses an upper-case sid before and after the logout of its session', async () => {
    const [device] = await signUp(stack, 1, 'upper-sid');
    const upper = forge({ sub: device.userId, sid: device.sessionId.toUpperCase(), iat: now(), exp: now() + 600 });
    expect(await meStatus(stack, device.accessToken)).toBe(200);
    expect(await meStatus(stack, upper)).toBe(401);
    await stack
      .http()
      .post('/auth/logout')
      .set(...bearer(device.accessToken))
      .send({ refreshToken: device.refreshToken })
      .expect(200);
    expect(await meStatus(stack, device.accessToken)).toBe(401);
    expect(await meStatus(stack, upper)).toBe(401);
  });

  it('refuses a token of a live session whose lifetime is ten years', async () => {
    const [device] = await signUp(stack, 1, 'ten-years');
    const ttl = stack.runtime.settings.sessions.lifetimes?.accessTokenTtlSeconds ?? SESSIONS_DEFAULTS.lifetimes.accessTokenTtlSeconds;
    expect(await meStatus(stack, forge({ sub: device.userId, sid: device.sessionId, iat: now(), exp: now() + ttl }))).toBe(200);
    expect(await meStatus(stack, forge({ sub: device.userId, sid: device.sessionId, iat: now(), exp: now() + 10 * 365 * 86_400 }))).toBe(401);
    const lateIat = now() + 10 * 365 * 86_400 - ttl;
    expect(await meStatus(stack, forge({ sub: device.userId, sid: device.sessionId, iat: lateIat, exp: lateIat + ttl }))).toBe(401);
  });
});
