import { Inject, Injectable, Logger } from '@nestjs/common';
import { isSessionActive } from '../../domain/records';
import { activeEntryTtlSeconds, revocationMarkerTtlSeconds } from '../../domain/session-rules';
import { SESSIONS_OPTIONS, ResolvedSessionsOptions } from '../../sessions.options';
import { ACCESS_TOKENS, AccessTokens } from '../ports/access-token.port';
import { CLOCK, Clock } from '../ports/clock.port';
import { CachedSessionState, SESSION_CACHE, SessionCache } from '../ports/session-cache.port';
import { SESSION_STORE, SessionStore } from '../ports/session-store.port';

export interface AuthenticatedSession {
  readonly userId: string;
  readonly sessionId: string;
}

/**
 * The check every authenticated request goes through: a valid signature and expiry, and a
 * session that is still active. The cache answers most requests with one GET; PostgreSQL
 * answers the rest, and whenever the cache cannot (so an outage costs latency, not safety).
 */
@Injectable()
export class SessionAuthenticator {
  private readonly logger = new Logger(SessionAuthenticator.name);
  private lastCacheWarning = 0;

  constructor(
    @Inject(ACCESS_TOKENS) private readonly accessTokens: AccessTokens,
    @Inject(SESSION_CACHE) private readonly cache: SessionCache,
    @Inject(SESSION_STORE) private readonly store: SessionStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SESSIONS_OPTIONS) private readonly options: ResolvedSessionsOptions,
  ) {}

  /** null when the token must be refused. */
  async authenticate(accessToken: string): Promise<AuthenticatedSession | null> {
    const claims = await this.accessTokens.verify(accessToken);
    if (!claims) return null;
    const cached = await this.readCache(claims.userId, claims.sessionId);
    if (cached === 'revoked') return null;
    if (cached === 'active') return claims;
    return (await this.checkStore(claims.userId, claims.sessionId)) ? claims : null;
  }

  private async checkStore(userId: string, sessionId: string): Promise<boolean> {
    const status = await this.store.findSessionStatus(sessionId);
    const now = this.clock.now();
    if (!status || status.userId !== userId) return false;
    if (!isSessionActive(status, now)) {
      if (status.revokedAt !== null) this.remember(() => this.cache.markRevoked(userId, [sessionId], revocationMarkerTtlSeconds(this.options.lifetimes)));
      return false;
    }
    const ttl = activeEntryTtlSeconds(this.options.lifetimes, status.expiresAt, now);
    // SET NX: if a revocation marked the session since we read it, the marker stays.
    if (ttl > 0) this.remember(() => this.cache.rememberActive(userId, sessionId, ttl));
    return true;
  }

  private async readCache(userId: string, sessionId: string): Promise<CachedSessionState | null> {
    try {
      return await this.cache.get(userId, sessionId);
    } catch (error) {
      this.warnCacheDown(error);
      return null;
    }
  }

  /** Cache refills are best effort and must not delay the request. */
  private remember(write: () => Promise<void>): void {
    write().catch((error: unknown) => this.warnCacheDown(error));
  }

  /** At most one line every 10 s: during an outage every request would otherwise log. */
  private warnCacheDown(error: unknown): void {
    const now = Date.now();
    if (now - this.lastCacheWarning < 10_000) return;
    this.lastCacheWarning = now;
    this.logger.warn({ msg: 'session_cache_unavailable', fallback: 'postgres', error: (error as Error).message });
  }
}
