import { Inject, Injectable, Logger } from '@nestjs/common';
import { clientNetwork } from '../../domain/client-network';
import { RequestContext } from '../../domain/request-context';
import { SESSIONS_OPTIONS, ResolvedSessionsOptions } from '../../sessions.options';
import { CLOCK, Clock } from '../ports/clock.port';
import { FailedLogin, LOGIN_ATTEMPTS, LoginAttemptKey, LoginAttempts } from '../ports/login-attempts.port';
import { SESSION_STORE, SessionStore } from '../ports/session-store.port';

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
    @Inject(SESSION_STORE) private readonly store: SessionStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SESSIONS_OPTIONS) private readonly options: ResolvedSessionsOptions,
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

  recordFailure(key: LoginAttemptKey): Promise<FailedLogin> {
    return this.attempts.recordFailure(key);
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
    const since = new Date(this.clock.now().getTime() - this.options.lifetimes.sessionTtlSeconds * 1000);
    const addresses = await this.store.sessionAddressesSince(userId, since);
    return addresses.some((address) => clientNetwork(address) === network);
  }
}
