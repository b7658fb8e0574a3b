/** Plain rules about sessions; no framework here. */
export interface SessionLifetimes {
  /** Lifetime of an access token (JWT), in seconds. */
  readonly accessTokenTtlSeconds: number;
  /** Lifetime of a session and of each refresh token issued in it, in seconds. */
  readonly sessionTtlSeconds: number;
  /** How long the auth check may trust a cached "active" answer before asking PostgreSQL again. */
  readonly activeCacheTtlSeconds: number;
  /**
   * Absolute lifetime of an admin console session (never extended), shorter than a user's
   * session: the console is the most privileged surface, and an operator signs in per shift.
   */
  readonly consoleSessionTtlSeconds: number;
}

export const DEFAULT_LIFETIMES: SessionLifetimes = {
  accessTokenTtlSeconds: 15 * 60,
  sessionTtlSeconds: 30 * 24 * 60 * 60,
  activeCacheTtlSeconds: 60,
  consoleSessionTtlSeconds: 8 * 60 * 60,
};

/**
 * A revocation marker must outlive every access token that could still carry the session:
 * after that the JWT's own expiry refuses the token.
 */
export function revocationMarkerTtlSeconds(lifetimes: SessionLifetimes): number {
  return lifetimes.accessTokenTtlSeconds + 60;
}

/**
 * How long a cache namespace counts as live after one of its instances was last seen: others
 * queue revocation markers for it until then. An instance that has not been seen for this long
 * distrusts its cache well before (half of it), and whatever "active" entry its cache still holds
 * from before it stopped has expired after the active TTL; the rest is slack for clocks.
 */
export function cacheNamespaceLiveSeconds(lifetimes: SessionLifetimes): number {
  return lifetimes.activeCacheTtlSeconds + 60;
}

/** A cached "active" entry never outlives the session itself nor the configured trust window. */
export function activeEntryTtlSeconds(lifetimes: SessionLifetimes, expiresAt: Date, now: Date): number {
  const remaining = Math.floor((expiresAt.getTime() - now.getTime()) / 1000);
  return Math.max(0, Math.min(lifetimes.activeCacheTtlSeconds, remaining));
}

/** Emails: see email-address.ts (one normalization for register, login, lookups and limits). */
export { normalizeEmail, emailProblem } from './email-address';

/**
 * How long an administrator-issued password reset token can be redeemed. The administrator hands
 * it to the user out of band (there is no email), so it must outlive a phone call, not a week.
 */
export const PASSWORD_RESET_TOKEN_TTL_SECONDS = 24 * 60 * 60;
