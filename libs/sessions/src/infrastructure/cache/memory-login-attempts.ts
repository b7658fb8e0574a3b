import { FailedLogin, LoginAttempts, LoginLockoutPolicy } from '../../application/ports/login-attempts.port';
import { Clock } from '../../application/ports/clock.port';

export interface MemoryLoginAttemptsOptions {
  /** Instances with the same prefix share their counts (both apps of one process). */
  readonly keyPrefix: string;
  readonly policy: LoginLockoutPolicy;
  readonly clock: Clock;
  /**
   * Above this many tracked emails, failures of emails not yet tracked are not counted (the rate
   * limits still hold), so a flood of made-up emails cannot exhaust memory. Locks are never
   * dropped. Default 100,000.
   */
  readonly maxEntries?: number;
}

interface Entry {
  failures: number;
  windowEndsAt: number;
  lockedUntil: number;
}

const shared = new Map<string, Map<string, Entry>>();

function entriesFor(keyPrefix: string): Map<string, Entry> {
  let entries = shared.get(keyPrefix);
  if (!entries) {
    entries = new Map();
    shared.set(keyPrefix, entries);
  }
  return entries;
}

/** In-process login attempts (embedded mode, and while Redis is down); same rules as RedisLoginAttempts. */
export class MemoryLoginAttempts implements LoginAttempts {
  private readonly entries: Map<string, Entry>;
  private readonly policy: LoginLockoutPolicy;
  private readonly clock: Clock;
  private readonly maxEntries: number;

  constructor(options: MemoryLoginAttemptsOptions) {
    this.entries = entriesFor(options.keyPrefix);
    this.policy = options.policy;
    this.clock = options.clock;
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  async lockedUntil(email: string): Promise<Date | null> {
    const now = this.clock.now().getTime();
    const entry = this.entries.get(email);
    return entry && entry.lockedUntil > now ? new Date(entry.lockedUntil) : null;
  }

  async recordFailure(email: string): Promise<FailedLogin> {
    const now = this.clock.now().getTime();
    let entry = this.entries.get(email);
    if (entry && entry.lockedUntil > now) return { failures: 0, lockedUntil: null };
    if (!entry || entry.windowEndsAt <= now) {
      if (!entry && this.entries.size >= this.maxEntries) {
        this.sweep(now);
        if (this.entries.size >= this.maxEntries) return { failures: 0, lockedUntil: null };
      }
      entry = { failures: 0, windowEndsAt: now + this.policy.lockSeconds * 1000, lockedUntil: 0 };
      this.entries.set(email, entry);
    }
    entry.failures += 1;
    if (entry.failures < this.policy.threshold) return { failures: entry.failures, lockedUntil: null };
    const failures = entry.failures;
    const lockedUntil = now + this.policy.lockSeconds * 1000;
    // The failures are spent on this lock; counting starts afresh when it ends.
    Object.assign(entry, { failures: 0, windowEndsAt: lockedUntil, lockedUntil });
    return { failures, lockedUntil: new Date(lockedUntil) };
  }

  async reset(email: string): Promise<void> {
    this.entries.delete(email);
  }

  private sweep(now: number): void {
    for (const [email, entry] of this.entries) {
      if (entry.windowEndsAt <= now && entry.lockedUntil <= now) this.entries.delete(email);
    }
  }
}
