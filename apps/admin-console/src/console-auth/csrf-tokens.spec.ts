import { createHmac, hkdfSync } from 'node:crypto';
import { ConsoleCsrfTokens } from './csrf-tokens';

const SECRET = 'test-secret-that-is-long-enough-for-hs256!';
const SESSION = '0190a5d2-0000-7000-8000-000000000001';

describe('ConsoleCsrfTokens', () => {
  const tokens = new ConsoleCsrfTokens(SECRET);

  it('is the HMAC-SHA256 of the session id under a key derived from the secret, never under the secret itself', () => {
    const key = Buffer.from(hkdfSync('sha256', SECRET, Buffer.alloc(0), 'sessions admin console csrf v1', 32));
    expect(tokens.tokenFor(SESSION)).toBe(createHmac('sha256', key).update(SESSION).digest('base64url'));
    expect(tokens.tokenFor(SESSION)).not.toBe(createHmac('sha256', SECRET).update(SESSION).digest('base64url'));
    expect(tokens.tokenFor(SESSION)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("accepts only this session's token", () => {
    const token = tokens.tokenFor(SESSION);
    expect(tokens.matches(SESSION, token)).toBe(true);
    expect(tokens.matches('0190a5d2-0000-7000-8000-000000000002', token)).toBe(false);
    expect(tokens.matches(SESSION, undefined)).toBe(false);
    expect(tokens.matches(SESSION, '')).toBe(false);
    expect(tokens.matches(SESSION, token.slice(0, -1))).toBe(false);
    expect(tokens.matches(SESSION, `${token}A`)).toBe(false);
    expect(
      tokens.matches(
        SESSION,
        token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
      ),
    ).toBe(false);
    // Another service secret makes other tokens.
    expect(new ConsoleCsrfTokens(`${SECRET}2`).matches(SESSION, token)).toBe(false);
  });
});
