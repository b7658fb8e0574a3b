import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * The console's CSRF tokens: HMAC-SHA256 of the console session's id, with a key derived (HKDF)
 * from the service's secret, so a token is bound to one session, needs no storage, and the
 * secret itself signs nothing but access tokens. SameSite=Strict does not stop a page on another
 * port of the same host (the same site); this token, which only the console's own page is handed,
 * does.
 */
export class ConsoleCsrfTokens {
  private readonly key: Buffer;

  constructor(serviceSecret: string) {
    this.key = Buffer.from(hkdfSync('sha256', serviceSecret, Buffer.alloc(0), 'sessions admin console csrf v1', 32));
  }

  tokenFor(sessionId: string): string {
    return createHmac('sha256', this.key).update(sessionId, 'utf8').digest('base64url');
  }

  /** In constant time; false for anything that is not this session's token (absent, malformed, another session's). */
  matches(sessionId: string, presented: string | undefined): boolean {
    if (typeof presented !== 'string') return false;
    const expected = Buffer.from(this.tokenFor(sessionId), 'utf8');
    const given = Buffer.from(presented, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
