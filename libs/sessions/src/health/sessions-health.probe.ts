import { Inject, Injectable } from '@nestjs/common';
import { SESSION_CACHE, SessionCache } from '../application/ports/session-cache.port';
import { SESSION_STORE, SessionStore } from '../application/ports/session-store.port';
import { ReconcilingSessionCache } from '../application/shared/reconciling-session-cache';

export interface CacheHealth {
  /** The store behind the session cache, for people (no credentials). */
  readonly store: string;
  /** The cache answered a ping in time. */
  readonly reachable: boolean;
  /**
   * The auth check trusts the cache's answers. False during an outage and while the cache is
   * being repaired after one: the check asks PostgreSQL meanwhile, so revocations still hold.
   */
  readonly trusted: boolean;
}

/**
 * What the library's health indicator reports, without @nestjs/terminus: the module exports it
 * so `@app/sessions/health` can read it; nothing here writes.
 */
@Injectable()
export class SessionsHealthProbe {
  constructor(
    @Inject(SESSION_STORE) private readonly store: SessionStore,
    @Inject(SESSION_CACHE) private readonly cache: SessionCache,
  ) {}

  /** Resolves when PostgreSQL answers, rejects otherwise. */
  pingDatabase(): Promise<void> {
    return this.store.ping();
  }

  async cacheHealth(timeoutMs: number): Promise<CacheHealth> {
    const trusted = !(this.cache instanceof ReconcilingSessionCache) || !this.cache.distrusted;
    try {
      await withTimeout(this.cache.ping(), timeoutMs, 'cache');
      return { store: this.cache.description, reachable: true, trusted };
    } catch {
      return { store: this.cache.description, reachable: false, trusted: false };
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the ${what} did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
