/**
 * How one access-token check ended (SessionAuthenticator):
 * - `cache_hit`: accepted on the cache's "active" entry, PostgreSQL not asked;
 * - `store`: accepted by PostgreSQL, the cache having had no answer (see AuthCheckStoreReason);
 * - `refused`: the token opens nothing (see AuthCheckRefusal).
 */
export type AuthCheckOutcome = 'cache_hit' | 'store' | 'refused';

/**
 * Why PostgreSQL answered an accepted check: the cache held no entry for the session
 * (`cache_miss`), the cache call failed or timed out (`cache_unavailable`), or the cache is
 * distrusted after an outage and not asked at all (`cache_untrusted`).
 */
export type AuthCheckStoreReason = 'cache_miss' | 'cache_unavailable' | 'cache_untrusted';

/**
 * Why a check refused: a token that is malformed, badly signed or carries claims this service
 * does not issue (`token_invalid`), a token past its expiry (`token_expired`), a revoked session
 * (`session_revoked`, from the cache's marker or from PostgreSQL), a session past its lifetime
 * (`session_expired`), or no such session for the token's user (`session_not_found`).
 */
export type AuthCheckRefusal = 'token_invalid' | 'token_expired' | 'session_revoked' | 'session_expired' | 'session_not_found';

export const AUTH_CHECK_STORE_REASONS: readonly AuthCheckStoreReason[] = ['cache_miss', 'cache_unavailable', 'cache_untrusted'];
export const AUTH_CHECK_REFUSALS: readonly AuthCheckRefusal[] = ['token_invalid', 'token_expired', 'session_revoked', 'session_expired', 'session_not_found'];

/**
 * What became of a batch of audit entries written outside a command's transaction (the
 * AuditRecorder): `written`, `retried` (a write that failed and will be tried again: one per
 * attempt), `failed` (given up: the entries went to the log as `audit_write_failed`).
 */
export type AuditWriteOutcome = 'written' | 'retried' | 'failed';

/**
 * What the library tells a host about its own workings, for metrics: the things no event says.
 * Logins, revocations and lockouts are in the events every command publishes (Attempted, then
 * Succeeded or Failed, with the reason, the actor and the count), so a host counts those by
 * subscribing to the EventBus; this observer reports the rest. Pass it as the `observer`
 * option; the default does nothing.
 *
 * Every method is called synchronously on the request's path and must return at once and never
 * throw (a throw is caught and dropped): increment a counter, nothing slower. The library depends
 * on no metrics client; `libs/runtime/src/metrics/` is an implementation with prom-client.
 */
export interface SessionsObserver {
  /** One access-token check (every guarded request): its outcome, and why for `store` and `refused`. */
  authCheck(outcome: 'cache_hit'): void;
  authCheck(outcome: 'store', reason: AuthCheckStoreReason): void;
  authCheck(outcome: 'refused', reason: AuthCheckRefusal): void;
  /** `entries` audit entries were written, retried or given up (see AuditWriteOutcome). */
  auditWrite(outcome: AuditWriteOutcome, entries: number): void;
  /**
   * The session cache's trust changed: false from the first failure (or at start-up, until the
   * first repair), true once it is repaired. While false, every check asks PostgreSQL.
   */
  cacheTrust(trusted: boolean): void;
}

/** The default observer: does nothing. */
export const NOOP_SESSIONS_OBSERVER: SessionsObserver = {
  authCheck: () => undefined,
  auditWrite: () => undefined,
  cacheTrust: () => undefined,
};

/** The injection token of the resolved observer (internal). */
export const SESSIONS_OBSERVER = Symbol('SessionsObserver');

/** The host's observer, guarded: a throwing observer must never fail a request or a write. */
export function safeObserver(observer: SessionsObserver): SessionsObserver {
  if (observer === NOOP_SESSIONS_OBSERVER) return observer;
  const guard =
    <A extends unknown[]>(call: (...args: A) => void) =>
    (...args: A): void => {
      try {
        call(...args);
      } catch {
        // Metrics are best effort: the request goes on.
      }
    };
  return {
    authCheck: guard((outcome: AuthCheckOutcome, reason?: AuthCheckStoreReason | AuthCheckRefusal) =>
      (observer.authCheck as (outcome: AuthCheckOutcome, reason?: string) => void).call(observer, outcome, reason),
    ),
    auditWrite: guard((outcome: AuditWriteOutcome, entries: number) => observer.auditWrite(outcome, entries)),
    cacheTrust: guard((trusted: boolean) => observer.cacheTrust(trusted)),
  };
}
