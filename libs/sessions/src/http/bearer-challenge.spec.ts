import { ACCESS_TOKEN_REFUSED, ADMINISTRATORS_ONLY, bearerChallenge } from './bearer-challenge';

describe('bearerChallenge (RFC 6750 §3)', () => {
  it('names only the realm when the request carried no Bearer token', () => {
    expect(bearerChallenge()).toBe('Bearer realm="sessions"');
  });

  it('adds the error code and its description otherwise', () => {
    expect(bearerChallenge({ code: 'invalid_token', description: ACCESS_TOKEN_REFUSED })).toBe(
      'Bearer realm="sessions", error="invalid_token", error_description="The access token is invalid or expired, or its session has ended"',
    );
    expect(bearerChallenge({ code: 'insufficient_scope', description: ADMINISTRATORS_ONLY })).toBe(
      'Bearer realm="sessions", error="insufficient_scope", error_description="This console is for administrators only"',
    );
  });

  it.each(['say "no"', 'back\\slash', 'line\nbreak', 'non-ASCII é'])('refuses a description RFC 6750 does not allow in the quotes: %p', (description) => {
    expect(() => bearerChallenge({ code: 'invalid_token', description })).toThrow(/error_description must be printable ASCII/);
  });
});
