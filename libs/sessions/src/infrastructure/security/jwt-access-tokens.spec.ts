import { createHmac } from 'node:crypto';
import { JwtAccessTokens } from './jwt-access-tokens';

const SECRET = 'unit-test-secret-that-is-long-enough-for-hs256';
const USER = '0190a5d2-0000-7000-8000-0000000000a1';
const SESSION = '0190a5d2-0000-7000-8000-0000000000c1';

function sign(header: object, payload: object, secret = SECRET): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const body = `${encode(header)}.${encode(payload)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

describe('JwtAccessTokens', () => {
  const tokens = new JwtAccessTokens(SECRET, 900);
  const now = Math.floor(Date.now() / 1000);

  it('round-trips the user and session', async () => {
    const { token, expiresIn } = await tokens.issue({ userId: USER, sessionId: SESSION });
    expect(expiresIn).toBe(900);
    expect(await tokens.verify(token)).toEqual({ userId: USER, sessionId: SESSION });
  });

  it.each([
    ['without exp', sign({ alg: 'HS256', typ: 'JWT' }, { sub: USER, sid: SESSION, iat: now })],
    ['expired', sign({ alg: 'HS256', typ: 'JWT' }, { sub: USER, sid: SESSION, iat: now - 1000, exp: now - 10 })],
    ['signed with another secret', sign({ alg: 'HS256', typ: 'JWT' }, { sub: USER, sid: SESSION, exp: now + 60 }, 'another-secret-that-is-long-enough-for-hs256')],
    ['alg none', `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: USER, sid: SESSION, exp: now + 60 })).toString('base64url')}.`],
    ['alg HS512 label', sign({ alg: 'HS512', typ: 'JWT' }, { sub: USER, sid: SESSION, exp: now + 60 })],
    ['a sid that is not a UUID', sign({ alg: 'HS256', typ: 'JWT' }, { sub: USER, sid: 'abc', exp: now + 60 })],
  ])('refuses a token %s', async (_name, token) => {
    expect(await tokens.verify(token)).toBeNull();
  });
});
