/** How many failed logins lock an account, and for how long. */
export interface LoginLockoutPolicy {
  /** Failed logins within `lockSeconds` that lock the account; the last of them engages the lock. */
  readonly threshold: number;
  /** How long failures are counted, and how long a lock lasts. */
  readonly lockSeconds: number;
}

export const DEFAULT_LOGIN_LOCKOUT: LoginLockoutPolicy = { threshold: 10, lockSeconds: 900 };

export interface FailedLogin {
  /** Failures counted in the current window, this one included; 0 if the account was already locked. */
  readonly failures: number;
  /** Set only when this failure engaged the lock: the moment to record in the audit trail. */
  readonly lockedUntil: Date | null;
}

/**
 * Failed logins per account, shared by every instance, and the lock they lead to. Keyed by the
 * normalized email, whether or not an account has it, so a lock never tells a caller that an
 * account exists. Adapters do not throw: when their shared store cannot answer they count in
 * this process instead.
 */
export interface LoginAttempts {
  /** When the lock on this email ends, or null when it is not locked. */
  lockedUntil(email: string): Promise<Date | null>;
  /** Counts a failed login; failures while locked are not counted and do not extend the lock. */
  recordFailure(email: string): Promise<FailedLogin>;
  /** Forgets the failures (after a successful login). */
  reset(email: string): Promise<void>;
}

export const LOGIN_ATTEMPTS = Symbol('LoginAttempts');
