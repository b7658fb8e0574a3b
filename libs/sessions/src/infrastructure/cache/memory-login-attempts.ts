import { FailedLogin, LoginAttemptKey, LoginAttempts, LoginGate, LoginLockoutPolicy, loginDelayMs } from '../../application/ports/login-attempts.port';
import { Clock } from '../../application/ports/clock.port';

export interface MemoryLoginAttemptsOptions {
  /** Instances with the same prefix share their counts (both apps of one process). */
  readonly keyPrefix: string;
  readonly policy: LoginLockoutPolicy;
  readonly clock: Clock;
  /**
   * Above this many tracked keys, failures of keys not yet tracked are not counted (the rate
   * limits still hold), so a flood of made-up emails cannot exhaust memory. Locks are never
   * dropped. Default 100,000.
   */
  readonly maxEntries?: number;
}

/** A network's failures on one email. */
interface NetworkEntry {
  failures: number;
  windowEndsAt: number;
  lockedUntil: number;
}

/** One email's failures from every network. */
interface EmailEntry {
  failures: number;
  expiresAt: number;
  delayedUntil: number;
}

interface Entries {
  networks: Map<string, NetworkEntry>;
  emails: Map<string, EmailEntry>;
}

const shared = new Map<string, Entries>();

function entriesFor(keyPrefix: string): Entries {
  let entries = shared.get(keyPrefix);
  if (!entries) {
    entries = { networks: new Map(), emails: new Map() };
    shared.set(keyPrefix, entries);
  }
  return entries;
}

const networkKey = (key: LoginAttemptKey) => `${key.email}\n${key.network}`;

/** In-process login attempts (embedded mode, and while Redis is down); same rules as RedisLoginAttempts. */
export class MemoryLoginAttempts implements LoginAttempts {
  private readonly entries: Entries;
  private readonly policy: LoginLockoutPolicy;
  private readonly clock: Clock;
  private readonly maxEntries: number;

  constructor(options: MemoryLoginAttemptsOptions) {
    this.entries = entriesFor(options.keyPrefix);
    this.policy = options.policy;
    this.clock = options.clock;
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  async gate(key: LoginAttemptKey): Promise<LoginGate> {
    const now = this.clock.now().getTime();
    const network = this.entries.networks.get(networkKey(key));
    const email = this.entries.emails.get(key.email);
    return {
      lockedUntil: network && network.lockedUntil > now ? new Date(network.lockedUntil) : null,
      delayedUntil: email && email.expiresAt > now && email.delayedUntil > now ? new Date(email.delayedUntil) : null,
    };
  }

  async recordFailure(key: LoginAttemptKey): Promise<FailedLogin> {
    const now = this.clock.now().getTime();
    const lockMs = this.policy.lockSeconds * 1000;
    let network = this.entries.networks.get(networkKey(key));
    if (network && network.lockedUntil > now) return { failures: 0, lockedUntil: null, emailFailures: 0, delayedUntil: null };
    if (!network || network.windowEndsAt <= now) {
      if (!network && !this.roomFor(this.entries.networks, now)) return { failures: 0, lockedUntil: null, emailFailures: 0, delayedUntil: null };
      network = { failures: 0, windowEndsAt: now + lockMs, lockedUntil: 0 };
      this.entries.networks.set(networkKey(key), network);
    }
    network.failures += 1;

    let email = this.entries.emails.get(key.email);
    if (!email || email.expiresAt <= now) {
      email = this.roomFor(this.entries.emails, now) ? { failures: 0, expiresAt: 0, delayedUntil: 0 } : undefined;
      if (email) this.entries.emails.set(key.email, email);
    }
    let emailFailures = 0;
    let delayedUntil: Date | null = null;
    if (email) {
      email.failures += 1;
      emailFailures = email.failures;
      const delay = loginDelayMs(email.failures, this.policy);
      if (delay > 0) {
        email.delayedUntil = now + delay;
        delayedUntil = new Date(email.delayedUntil);
      }
      // The email-wide count lives until lockSeconds pass without a failure.
      email.expiresAt = now + Math.max(lockMs, delay);
    }

    const failures = network.failures;
    if (failures < this.policy.threshold) return { failures, lockedUntil: null, emailFailures, delayedUntil };
    const lockedUntil = now + lockMs;
    // The failures are spent on this lock; counting starts afresh when it ends.
    Object.assign(network, { failures: 0, windowEndsAt: lockedUntil, lockedUntil });
    return { failures, lockedUntil: new Date(lockedUntil), emailFailures, delayedUntil };
  }

  async reset(key: LoginAttemptKey): Promise<void> {
    this.entries.networks.delete(networkKey(key));
  }

  async clear(email: string, networks: readonly string[]): Promise<void> {
    for (const network of networks) this.entries.networks.delete(networkKey({ email, network }));
    this.entries.emails.delete(email);
  }

  /** Whether a new key may be tracked, after dropping expired ones if the map is full. */
  private roomFor(map: Map<string, NetworkEntry | EmailEntry>, now: number): boolean {
    if (map.size < this.maxEntries) return true;
    for (const [key, entry] of map) {
      const ended = 'lockedUntil' in entry ? entry.windowEndsAt <= now && entry.lockedUntil <= now : entry.expiresAt <= now;
      if (ended) map.delete(key);
    }
    return map.size < this.maxEntries;
  }
}
