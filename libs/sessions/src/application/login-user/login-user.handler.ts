import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actors } from '../../domain/actor';
import { normalizeEmail } from '../../domain/session-rules';
import { CLOCK, Clock } from '../ports/clock.port';
import { LOGIN_ATTEMPTS, LoginAttempts } from '../ports/login-attempts.port';
import { PASSWORD_HASHER, PasswordHasher } from '../ports/password-hasher.port';
import { CredentialCheck, SESSION_STORE, SessionStore } from '../ports/session-store.port';
import { AuditTrail } from '../shared/audit-trail';
import { SessionIssuer } from '../shared/session-issuer';
import { LoginOutcome, LoginUser } from './login-user.command';
import { LOGIN_EVENTS } from './login-user.events';

/** Audit reasons of a right password that still opens no session. */
const REFUSAL_REASONS: Record<Exclude<CredentialCheck, 'current'>, string> = {
  changed: 'invalid_credentials',
  user_not_found: 'invalid_credentials',
  disabled: 'user_disabled',
  reset_required: 'password_reset_required',
};

@CommandHandler(LoginUser)
export class LoginUserHandler implements ICommandHandler<LoginUser> {
  private static readonly logger = new Logger('LoginUserHandler');
  /** Verified against when the email is unknown, so both failures take the same time. */
  private decoyHash: Promise<string> | undefined;

  constructor(
    @Inject(SESSION_STORE) private readonly store: SessionStore,
    @Inject(PASSWORD_HASHER) private readonly hasher: PasswordHasher,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly trail: AuditTrail,
    private readonly issuer: SessionIssuer,
    @Inject(LOGIN_ATTEMPTS) private readonly attempts: LoginAttempts,
  ) {}

  async execute(command: LoginUser): Promise<LoginOutcome> {
    const operation = this.trail.begin(LOGIN_EVENTS, {
      actor: Actors.anonymous(),
      subjectUserId: null,
      context: command.context,
    });
    return operation.run(async () => {
      const email = normalizeEmail(command.email);
      const lockedUntil = await this.attempts.lockedUntil(email);
      const user = await this.store.findUserByEmail(email);
      // Verified even while locked, so a locked email takes as long as any other failure.
      const passwordMatches = await this.hasher.verify(user?.passwordHash ?? (await this.decoy()), command.password);
      const subjectUserId = user?.id ?? null;
      const userKnown = user !== null;
      if (lockedUntil) {
        operation.fail('account_locked', { subjectUserId, details: { userKnown, lockedUntil: lockedUntil.toISOString() } });
        return { kind: 'rejected', reason: 'account_locked', lockedUntil };
      }
      if (!user || !passwordMatches) {
        const failure = await this.attempts.recordFailure(email);
        // The failure that engages the lock says so: the audit trail shows when and until when.
        const lock = failure.lockedUntil ? { lockedUntil: failure.lockedUntil.toISOString(), failedAttempts: failure.failures } : {};
        operation.fail('invalid_credentials', { subjectUserId, details: { userKnown, ...lock } });
        return { kind: 'rejected', reason: 'invalid_credentials' };
      }
      const tokens = await this.store.inTransaction(async (tx) => {
        // The session is tied to the credential verified: with the user row locked, a password
        // change either waits for this commit (and its revoke-all ends this session) or has
        // committed already, and the hash verified is no longer the password.
        const credentials = await tx.lockVerifiedCredentials(user.id, user.passwordHash);
        if (credentials !== 'current') return credentials;
        const issued = await this.issuer.openSession(tx, user.id, command.context, this.clock.now());
        await operation.succeedIn(tx, { actor: Actors.user(user.id), subjectUserId: user.id, sessionId: issued.sessionId });
        return issued;
      });
      if (typeof tokens === 'string') {
        // The caller gets the answer of a wrong password (a disabled account is not confirmed to
        // whoever holds its password); the audit trail says why.
        operation.fail(REFUSAL_REASONS[tokens], { subjectUserId, details: { userKnown, ...(tokens === 'changed' ? { passwordChangedMeanwhile: true } : {}) } });
        return { kind: 'rejected', reason: 'invalid_credentials' };
      }
      await this.forgetFailures(email);
      return { kind: 'authenticated', ...tokens };
    });
  }

  /** The login has succeeded and committed; a failure to reset the count must not undo that. */
  private async forgetFailures(email: string): Promise<void> {
    try {
      await this.attempts.reset(email);
    } catch (error) {
      LoginUserHandler.logger.warn(`Could not reset failed logins: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private decoy(): Promise<string> {
    this.decoyHash ??= this.hasher.hash('decoy password that matches nothing');
    return this.decoyHash;
  }
}
