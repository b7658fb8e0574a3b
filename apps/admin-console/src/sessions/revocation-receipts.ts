import type { Runtime } from '@app/runtime';
import { SESSIONS_DEFAULTS } from '@app/sessions';

/**
 * What a revocation's answer tells the operator besides how many sessions ended: when the last
 * access token of those sessions would have expired on its own. The tokens are refused from the
 * revocation on already (the auth check reads the session); this is the instant after which none
 * exists anywhere, not even in a client's memory or a log.
 */
export class RevocationReceipts {
  constructor(
    readonly accessTokenTtlSeconds: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  static of(runtime: Runtime): RevocationReceipts {
    return new RevocationReceipts(runtime.settings.sessions.lifetimes?.accessTokenTtlSeconds ?? SESSIONS_DEFAULTS.lifetimes.accessTokenTtlSeconds);
  }

  /**
   * The commands' outcomes carry no time, so the clock is read after the command answered: later
   * than the commit, so this is an upper bound (a token is issued at most one TTL before its
   * session ends; it may have been issued earlier and expire sooner).
   */
  accessTokensValidUntil(): Date {
    return new Date(this.now().getTime() + this.accessTokenTtlSeconds * 1_000);
  }
}
