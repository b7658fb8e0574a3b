import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { isSessionActive } from '../../domain/records';
import { activeEntryTtlSeconds, revocationMarkerTtlSeconds, SessionLifetimes } from '../../domain/session-rules';
import { ACCESS_TOKENS, AccessTokens } from '../ports/access-token.port';
import { CLOCK, Clock } from '../ports/clock.port';
import { CachedSessionState, SESSION_CACHE, SessionCache } from '../ports/session-cache.port';
import { SESSION_RECORDS, SessionRecords } from '../ports/session-records.port';
import { SESSION_LIFETIMES } from '../settings';
import { AuthCheckRefusal, AuthCheckStoreReason, NOOP_SESSIONS_OBSERVER, SESSIONS_OBSERVER, SessionsObserver } from '../observer/sessions-observer';
import { ReconcilingSessionCache } from '../session-cache/reconciling-session-cache';

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
    @Inject(SESSION_RECORDS) private readonly sessions: SessionRecords,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SESSION_LIFETIMES) private readonly lifetimes: SessionLifetimes,
    @Optional() @Inject(SESSIONS_OBSERVER) observer?: SessionsObserver,
  ) {
    this.observer = observer ?? NOOP_SESSIONS_OBSERVER;
  }

  private readonly observer: SessionsObserver;

  /** null when the token must be refused. */
  async authenticate(accessToken: string): Promise<AuthenticatedSession | null> {
    const verdict = await this.accessTokens.check(accessToken);
    if (verdict.kind === 'refused') return this.refuse(verdict.reason);
    const { claims } = verdict;
    const cached = await this.readCache(claims.userId, claims.sessionId);
    if (cached === 'revoked') return this.refuse('session_revoked');
    if (cached === 'active') {
      this.observer.authCheck('cache_hit');
      return claims;
    }
    const refusal = await this.checkStore(claims.userId, claims.sessionId);
    if (refusal) return this.refuse(refusal);
    this.observer.authCheck('store', cached);
    return claims;
  }

  private refuse(reason: AuthCheckRefusal): null {
    this.observer.authCheck('refused', reason);
    return null;
  }

  /** Why PostgreSQL refuses the session, or null when it is active. */
  private async checkStore(userId: string, sessionId: string): Promise<AuthCheckRefusal | null> {
    const status = await this.sessions.findStatus(sessionId);
    const now = this.clock.now();
    if (!status || status.userId !== userId) return 'session_not_found';
    if (!isSessionActive(status, now)) {
      if (status.revokedAt === null) return 'session_expired';
      this.remember(() => this.cache.markRevoked(userId, [sessionId], revocationMarkerTtlSeconds(this.lifetimes)));
      return 'session_revoked';
    }
    const ttl = activeEntryTtlSeconds(this.lifetimes, status.expiresAt, now);
    // SET NX: if a revocation marked the session since we read it, the marker stays.
    if (ttl > 0) this.remember(() => this.cache.rememberActive(userId, sessionId, ttl));
    return null;
  }

  /** The cache's answer, or why there is none (for the observer: PostgreSQL answers instead). */
  private async readCache(userId: string, sessionId: string): Promise<CachedSessionState | AuthCheckStoreReason> {
    if (this.cache instanceof ReconcilingSessionCache && this.cache.distrusted) return 'cache_untrusted';
    try {
      return (await this.cache.get(userId, sessionId)) ?? 'cache_miss';
    } catch (error) {
      this.warnCacheDown(error);
      return 'cache_unavailable';
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
