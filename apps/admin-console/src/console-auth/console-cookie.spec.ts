import { CONSOLE_COOKIE, consoleCookieName, consoleCookieOptions, SECURE_CONSOLE_COOKIE } from './console-cookie';

describe('the console cookie', () => {
  it('takes the __Host- prefix over HTTPS only', () => {
    expect(consoleCookieName(false)).toBe(CONSOLE_COOKIE);
    expect(consoleCookieName(true)).toBe(`__Host-${CONSOLE_COOKIE}`);
    expect(SECURE_CONSOLE_COOKIE).toBe('__Host-sessions_console');
  });

  it('is HttpOnly, SameSite=Strict, Path=/, for what is left of the session, Secure over HTTPS, and never has a Domain', () => {
    expect(consoleCookieOptions(true, 600)).toEqual({ httpOnly: true, sameSite: 'strict', path: '/', secure: true, maxAge: 600 });
    expect(consoleCookieOptions(false, 600)).toEqual({ httpOnly: true, sameSite: 'strict', path: '/', secure: false, maxAge: 600 });
    // An expired session's cookie is cleared, never given a negative Max-Age.
    expect(consoleCookieOptions(false, -5).maxAge).toBe(0);
  });
});
