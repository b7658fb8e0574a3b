import { Inject, Injectable, Logger } from '@nestjs/common';
import { clientNetwork } from '../../domain/client-network';
import { RequestContext } from '../../domain/request-context';
import { SessionLifetimes } from '../../domain/session-rules';
import { CLOCK, Clock } from '../ports/clock.port';
import { FailedLogin, LOGIN_ATTEMPTS, LoginAttemptKey, LoginAttempts } from '../ports/login-attempts.port';
import { LOGIN_LOCKOUTS, LoginLockouts } from '../ports/login-lockouts.port';
import { SESSION_RECORDS, SessionRecords } from '../ports/session-records.port';
import { SESSION_LIFETIMES } from '../settings';

export type LoginVerdict =
  | { readonly kind: 'open' }
  /** This network guessed wrong too often for this email. */
  | { readonly kind: 'locked'; readonly lockedUntil: Date }
  /** The email-wide progressive delay, for a network the account never signed in from. */
  | { readonly kind: 'delayed'; readonly delayedUntil: Date };

/**
 * Applies the login lockout policy (see LoginLockoutPolicy) to a password check: logins and
 * wrong current passwords both count here, so one budget covers every way to guess.
 */
@Injectable()
export class LoginGatekeeper {
  private static readonly logger = new Logger('LoginGatekeeper');

  constructor(
    @Inject(LOGIN_ATTEMPTS) private readonly attempts: LoginAttempts,
    @Inject(SESSION_RECORDS) private readonly sessions: SessionRecords,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SESSION_LIFETIMES) private readonly lifetimes: SessionLifetimes,
    @Inject(LOGIN_LOCKOUTS) private readonly lockouts: LoginLockouts,
  ) {}

  keyFor(normalizedEmail: string, context: RequestContext): LoginAttemptKey {
    return { email: normalizedEmail, network: clientNetwork(context.ipAddress) };
  }

  /** Whether a password may be considered now; `userId` (null for an unknown email) lets a known network past the delay. */
  async verdict(key: LoginAttemptKey, userId: string | null): Promise<LoginVerdict> {
    const gate = await this.attempts.gate(key);
    if (gate.lockedUntil) return { kind: 'locked', lockedUntil: gate.lockedUntil };
    if (!gate.delayedUntil) return { kind: 'open' };
    // Asked for unknown emails too (of an id that matches nothing), so both take as long.
    if (await this.signedInFrom(userId ?? '00000000-0000-0000-0000-000000000000', key.network)) return { kind: 'open' };
    return { kind: 'delayed', delayedUntil: gate.delayedUntil };
  }

  /**
   * Counts a failure; one that engages a lock also records it in PostgreSQL (for the console's
   * list and UnlockUser). That record failing must not fail the login: the lock holds in Redis
   * regardless, it is only not listed.
   */
  async recordFailure(key: LoginAttemptKey, userId: string | null): Promise<FailedLogin> {
    const failure = await this.attempts.recordFailure(key);
    if (failure.lockedUntil) {
      const lock = { ...key, userId, failedAttempts: failure.failures, lockedAt: this.clock.now(), lockedUntil: failure.lockedUntil };
      try {
        await this.lockouts.record(lock);
      } catch (error) {
        LoginGatekeeper.logger.warn(`Could not record a login lockout: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return failure;
  }

  /** The login has succeeded and committed; a failure to reset the count must not undo that. */
  async succeeded(key: LoginAttemptKey): Promise<void> {
    try {
      await this.attempts.reset(key);
    } catch (error) {
      LoginGatekeeper.logger.warn(`Could not reset failed logins: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * A network the account opened a session from within the session lifetime: its owner's
   * devices. The per-network lock still bounds guesses from there.
   */
  private async signedInFrom(userId: string, network: string): Promise<boolean> {
    const since = new Date(this.clock.now().getTime() - this.lifetimes.sessionTtlSeconds * 1000);
    const addresses = await this.sessions.addressesSince(userId, since);
    return addresses.some((address) => clientNetwork(address) === network);
  }
}
