/**
 * The concurrent-session cap (Keycloak's two behaviours): how many live web sessions one user may
 * hold, and what a login past it does. Console sessions are not counted: they are the operator's,
 * short-lived, and capping them would let a user's own web sessions lock an administrator out of
 * the console (or the other way round).
 */
export type SessionLimitPolicyName = 'evict_oldest' | 'deny_new';
export const SESSION_LIMIT_POLICIES: readonly SessionLimitPolicyName[] = ['evict_oldest', 'deny_new'];

export interface SessionLimit {
  /** Live web sessions a user may hold at once; null: no cap. */
  readonly maxPerUser: number | null;
  /** `evict_oldest`: the login ends the oldest sessions over the cap; `deny_new`: the login is refused. */
  readonly policy: SessionLimitPolicyName;
}

export const NO_SESSION_LIMIT: SessionLimit = Object.freeze({ maxPerUser: null, policy: 'evict_oldest' });

/** What a login does about the cap, given the user's live web sessions, oldest first. */
export type SessionLimitDecision =
  { readonly kind: 'open'; readonly evict: readonly string[] } | { readonly kind: 'deny'; readonly maxPerUser: number; readonly live: number };

/**
 * Decides for a login that would open one more session: within the cap it opens; over it,
 * evict_oldest ends the oldest so that exactly the cap is live once the new one is (several when
 * the cap was lowered), and deny_new refuses.
 */
export function sessionLimitDecision(limit: SessionLimit, liveOldestFirst: readonly string[]): SessionLimitDecision {
  const { maxPerUser } = limit;
  if (maxPerUser === null || liveOldestFirst.length < maxPerUser) return { kind: 'open', evict: [] };
  if (limit.policy === 'deny_new') return { kind: 'deny', maxPerUser, live: liveOldestFirst.length };
  return { kind: 'open', evict: liveOldestFirst.slice(0, liveOldestFirst.length - maxPerUser + 1) };
}
