/**
 * The login lockout policy (issue 8 #6). Failures are counted twice:
 * - per (email, client network): `threshold` failures within `lockSeconds` lock that network out
 *   of that email for `lockSeconds` (a hard lock, but only for the network that guessed);
 * - per email, from anywhere: from the `threshold`-th failure on, each failure delays the next
 *   attempt for that email by 1 s, 2 s, 4 s ... up to `maxDelaySeconds` (a progressive delay, never
 *   a lock). The count lives until `lockSeconds` pass without a failure.
 * A network the account signed in from before (a session created within the session lifetime)
 * is not delayed, so an attack from elsewhere cannot keep the owner out.
 */
export interface LoginLockoutPolicy {
  readonly threshold: number;
  readonly lockSeconds: number;
  /** Longest email-wide delay between two attempts. */
  readonly maxDelaySeconds: number;
}

export const DEFAULT_LOGIN_LOCKOUT: LoginLockoutPolicy = { threshold: 10, lockSeconds: 900, maxDelaySeconds: 300 };

/** How long the email-wide count delays the next attempt after `emailFailures` failures. */
export function loginDelayMs(emailFailures: number, policy: LoginLockoutPolicy): number {
  if (emailFailures < policy.threshold) return 0;
  const exponent = Math.min(emailFailures - policy.threshold, 30);
  return Math.min(policy.maxDelaySeconds, 2 ** exponent) * 1000;
}

/** Whose failures: the normalized email (whether or not an account has it) and the client's network (see clientNetwork). */
export interface LoginAttemptKey {
  readonly email: string;
  readonly network: string;
}

export interface LoginGate {
  /** When this network's lock on this email ends, or null. */
  readonly lockedUntil: Date | null;
  /** No attempt for this email (from a network not known to the account) before this moment, or null. */
  readonly delayedUntil: Date | null;
}

export interface FailedLogin {
  /** This network's failures in its window, this one included; 0 if it was already locked. */
  readonly failures: number;
  /** Set only when this failure engaged this network's lock: the moment to record in the audit trail. */
  readonly lockedUntil: Date | null;
  /** The email's failures from every network, this one included (0 if not counted). */
  readonly emailFailures: number;
  /** The email-wide delay this failure set, or null. */
  readonly delayedUntil: Date | null;
}

/**
 * Failed logins, shared by every instance. Keyed by the normalized email, whether or not an
 * account has it, so neither a lock nor a delay tells a caller that an account exists. Adapters
 * do not throw: when their shared store cannot answer they count in this process instead.
 */
export interface LoginAttempts {
  gate(key: LoginAttemptKey): Promise<LoginGate>;
  /** Counts a failed login; a failure from a locked network is not counted and does not extend the lock. */
  recordFailure(key: LoginAttemptKey): Promise<FailedLogin>;
  /**
   * Forgets this network's failures (after a successful login). The email-wide count stays: the
   * owner signing in must not hand an attacker elsewhere a fresh budget.
   */
  reset(key: LoginAttemptKey): Promise<void>;
  /**
   * Forgets the locks and failures of these networks on the email, and the email-wide count (an
   * administrator's unlock). Unlike the other methods it throws when the shared store cannot
   * answer: an unlock that did not happen must not be reported as done.
   */
  clear(email: string, networks: readonly string[]): Promise<void>;
}

export const LOGIN_ATTEMPTS = Symbol('LoginAttempts');
