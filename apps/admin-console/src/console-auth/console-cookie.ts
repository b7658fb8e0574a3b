import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The console session's cookie over plain HTTP (a laptop, a test). */
export const CONSOLE_COOKIE = 'sessions_console';
/**
 * Over HTTPS: the `__Host-` prefix makes browsers keep the cookie only if it is Secure, has
 * Path=/ and no Domain, so neither a sibling subdomain nor a plain-HTTP page can plant or
 * overwrite it (RFC 6265bis §4.1.3.2).
 */
export const SECURE_CONSOLE_COOKIE = `__Host-${CONSOLE_COOKIE}`;

/** The cookie's name for a request that came over HTTPS or not (request.protocol, which honours TRUST_PROXY). */
export function consoleCookieName(secure: boolean): string {
  return secure ? SECURE_CONSOLE_COOKIE : CONSOLE_COOKIE;
}

function isSecure(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

/**
 * The credential the request's cookie carries, or null. Only the name of the request's own
 * scheme is read: over HTTPS a cookie without the prefix may have been planted over plain HTTP.
 */
export function consoleCredentialOf(request: FastifyRequest): string | null {
  const value = request.cookies?.[consoleCookieName(isSecure(request))];
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * The attributes of the console's cookie: HttpOnly (no script reads it), SameSite=Strict (no
 * other site's request carries it), Path=/, Max-Age what is left of the session's absolute
 * lifetime, and Secure over HTTPS. Pure, for the tests.
 */
export function consoleCookieOptions(secure: boolean, maxAgeSeconds: number): CookieSerializeOptions {
  return { httpOnly: true, sameSite: 'strict', path: '/', secure, maxAge: Math.max(0, maxAgeSeconds) };
}

export function setConsoleCookie(request: FastifyRequest, reply: FastifyReply, credential: string, expiresAt: Date, now: Date = new Date()): void {
  const secure = isSecure(request);
  const remaining = Math.floor((expiresAt.getTime() - now.getTime()) / 1000);
  reply.setCookie(consoleCookieName(secure), credential, consoleCookieOptions(secure, remaining));
}

export function clearConsoleCookie(request: FastifyRequest, reply: FastifyReply): void {
  const secure = isSecure(request);
  reply.clearCookie(consoleCookieName(secure), consoleCookieOptions(secure, 0));
}
