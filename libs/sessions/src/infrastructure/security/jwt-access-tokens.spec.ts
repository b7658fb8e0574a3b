import { createHmac } from 'node:crypto';
import { ACCESS_TOKEN_CLOCK_SKEW_SECONDS, JwtAccessTokens } from './jwt-access-tokens';

const SECRET = 'unit-test-secret-that-is-long-enough-for-hs256';
const USER = '0190a5d2-0000-7000-8000-0000000000a1';
const SESSION = '0190a5d2-0000-7000-8000-0000000000c1';
const TTL = 900;
const HS256 = { alg: 'HS256', typ: 'JWT' };

function sign(header: object, payload: object, secret = SECRET): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const body = `${encode(header)}.${encode(payload)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

describe('JwtAccessTokens', () => {
  // The real time, so that a verifier ignoring the injected clock still sees these tokens as current.
  const nowMs = Math.floor(Date.now() / 1000) * 1000;
  const now = nowMs / 1000;
  const tokens = new JwtAccessTokens(SECRET, TTL, { now: () => new Date(nowMs) });

  it('round-trips the user and session', async () => {
    const { token, expiresIn } = await tokens.issue({ userId: USER, sessionId: SESSION });
    expect(expiresIn).toBe(TTL);
    expect(await tokens.verify(token)).toEqual({ userId: USER, sessionId: SESSION });
  });

  it('says why it refuses: expired only for a token whose signature verified', async () => {
    const { token } = await tokens.issue({ userId: USER, sessionId: SESSION });
    expect(await tokens.check(token)).toEqual({ kind: 'valid', claims: { userId: USER, sessionId: SESSION } });
    const later = new JwtAccessTokens(SECRET, TTL, { now: () => new Date(nowMs + (TTL + 1) * 1000) });
    expect(await later.check(token)).toEqual({ kind: 'refused', reason: 'token_expired' });
    const expiredForgery = sign(HS256, { sub: USER, sid: SESSION, iat: now - 1000, exp: now - 10 }, 'another-secret-that-is-long-enough-for-hs256');
    expect(await tokens.check(expiredForgery)).toEqual({ kind: 'refused', reason: 'token_invalid' });
    expect(await tokens.check('not.a.jwt')).toEqual({ kind: 'refused', reason: 'token_invalid' });
  });

  it('accepts a token it issued up to the end of its lifetime, on a clock running a little behind the issuer', async () => {
    const late = new JwtAccessTokens(SECRET, TTL, { now: () => new Date(nowMs + (TTL - 1) * 1000) });
    const early = new JwtAccessTokens(SECRET, TTL, { now: () => new Date(nowMs - ACCESS_TOKEN_CLOCK_SKEW_SECONDS * 1000) });
    const { token } = await tokens.issue({ userId: USER, sessionId: SESSION });
    expect(await late.verify(token)).toEqual({ userId: USER, sessionId: SESSION });
    expect(await early.verify(token)).toEqual({ userId: USER, sessionId: SESSION });
  });

  it.each([
    ['without exp', sign(HS256, { sub: USER, sid: SESSION, iat: now })],
    ['expired', sign(HS256, { sub: USER, sid: SESSION, iat: now - 1000, exp: now - 10 })],
    ['signed with another secret', sign(HS256, { sub: USER, sid: SESSION, iat: now, exp: now + 60 }, 'another-secret-that-is-long-enough-for-hs256')],
    [
      'alg none',
      `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: USER, sid: SESSION, iat: now, exp: now + 60 })).toString('base64url')}.`,
    ],
    ['alg HS512 label', sign({ alg: 'HS512', typ: 'JWT' }, { sub: USER, sid: SESSION, iat: now, exp: now + 60 })],
    ['of another type', sign({ alg: 'HS256', typ: 'at+jwt' }, { sub: USER, sid: SESSION, iat: now, exp: now + 60 })],
    ['without a type', sign({ alg: 'HS256' }, { sub: USER, sid: SESSION, iat: now, exp: now + 60 })],
    ['a sid that is not a UUID', sign(HS256, { sub: USER, sid: 'abc', iat: now, exp: now + 60 })],
  ])('refuses a token %s', async (_name, token) => {
    expect(await tokens.verify(token)).toBeNull();
  });

  // issue 8 #5: a token signed with the (then public) development secret claimed a 10-year exp.
  describe('refuses a token whose lifetime is longer than the configured one', () => {
    it('refuses a token whose exp - iat exceeds the access-token lifetime plus the skew', async () => {
      const tenYears = sign(HS256, { sub: USER, sid: SESSION, iat: now, exp: now + 10 * 365 * 86_400 });
      const justOver = sign(HS256, { sub: USER, sid: SESSION, iat: now, exp: now + TTL + ACCESS_TOKEN_CLOCK_SKEW_SECONDS + 1 });
      const justUnder = sign(HS256, { sub: USER, sid: SESSION, iat: now, exp: now + TTL + ACCESS_TOKEN_CLOCK_SKEW_SECONDS });
      expect(await tokens.verify(tenYears)).toBeNull();
      expect(await tokens.verify(justOver)).toBeNull();
      expect(await tokens.verify(justUnder)).toEqual({ userId: USER, sessionId: SESSION });
    });

    it('refuses a token without iat', async () => {
      expect(await tokens.verify(sign(HS256, { sub: USER, sid: SESSION, exp: now + 60 }))).toBeNull();
    });

    it('refuses a token issued in the future (beyond the skew), which would stretch its lifetime', async () => {
      const iat = now + 10 * 365 * 86_400 - TTL;
      expect(await tokens.verify(sign(HS256, { sub: USER, sid: SESSION, iat, exp: iat + TTL }))).toBeNull();
      const slightlyAhead = now + ACCESS_TOKEN_CLOCK_SKEW_SECONDS;
      expect(await tokens.verify(sign(HS256, { sub: USER, sid: SESSION, iat: slightlyAhead, exp: slightlyAhead + TTL }))).toEqual({
        userId: USER,
        sessionId: SESSION,
      });
    });
  });

  // issue 8 #17: cache keys are built from the ids as the token writes them.
  describe('canonical ids', () => {
    it('refuses a token whose sid is not canonical', async () => {
      expect(await tokens.verify(sign(HS256, { sub: USER, sid: SESSION.toUpperCase(), iat: now, exp: now + 60 }))).toBeNull();
      const mixed = `${SESSION.slice(0, 30)}C1`;
      expect(await tokens.verify(sign(HS256, { sub: USER, sid: mixed, iat: now, exp: now + 60 }))).toBeNull();
    });

    it('refuses a token whose sub is not canonical', async () => {
      expect(await tokens.verify(sign(HS256, { sub: USER.toUpperCase(), sid: SESSION, iat: now, exp: now + 60 }))).toBeNull();
      expect(await tokens.verify(sign(HS256, { sub: `{${USER}}`, sid: SESSION, iat: now, exp: now + 60 }))).toBeNull();
    });
  });
});
