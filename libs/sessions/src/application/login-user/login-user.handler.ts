import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actors } from '../../domain/actor';
import { normalizeEmail } from '../../domain/session-rules';
import { CLOCK, Clock } from '../ports/clock.port';
import { PASSWORD_HASHER, PasswordHasher } from '../ports/password-hasher.port';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { CredentialCheck, USER_ACCOUNTS, UserAccounts } from '../ports/user-accounts.port';
import { AuditTrail } from '../audit/audit-trail';
import { SessionIssuer } from '../tokens/session-issuer';
import { LoginGatekeeper } from './login-gatekeeper';
import { LoginOutcome, LoginUser } from './login-user.command';
import { LOGIN_EVENTS } from './login-user.events';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';

/** Audit reasons of a right password that still opens no session. */
const REFUSAL_REASONS: Record<Exclude<CredentialCheck, 'current'>, string> = {
  changed: 'invalid_credentials',
  user_not_found: 'invalid_credentials',
  disabled: 'user_disabled',
  reset_required: 'password_reset_required',
};

const INPUT: InputRules<LoginUser> = {
  email: Checks.bounded(),
  password: Checks.bounded(),
  context: Checks.context(),
};

@CommandHandler(LoginUser)
export class LoginUserHandler implements ICommandHandler<LoginUser> {
  /** Verified against when the email is unknown, so both failures take the same time. */
  private decoyHash: Promise<string> | undefined;

  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    @Inject(USER_ACCOUNTS) private readonly users: UserAccounts,
    @Inject(PASSWORD_HASHER) private readonly hasher: PasswordHasher,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly trail: AuditTrail,
    private readonly issuer: SessionIssuer,
    private readonly gatekeeper: LoginGatekeeper,
  ) {}

  async execute(command: LoginUser): Promise<LoginOutcome> {
    const operation = this.trail.begin(LOGIN_EVENTS, {
      actor: Actors.anonymous(),
      subjectUserId: null,
      context: command.context,
    });
    return operation.run(async () => {
      assertValidInput(command, INPUT);
      const email = normalizeEmail(command.email);
      const attemptKey = this.gatekeeper.keyFor(email, command.context);
      const user = await this.users.findByEmail(email);
      const verdict = await this.gatekeeper.verdict(attemptKey, user?.id ?? null);
      // Verified even while locked or delayed, so a refusal takes as long as any other failure.
      const passwordMatches = await this.hasher.verify(user?.passwordHash ?? (await this.decoy()), command.password);
      const subjectUserId = user?.id ?? null;
      const userKnown = user !== null;
      if (verdict.kind === 'locked') {
        const { lockedUntil } = verdict;
        operation.fail('account_locked', { subjectUserId, details: { userKnown, lockedUntil: lockedUntil.toISOString() } });
        return { kind: 'rejected', reason: 'account_locked', lockedUntil };
      }
      if (verdict.kind === 'delayed') {
        const { delayedUntil } = verdict;
        operation.fail('login_delayed', { subjectUserId, details: { userKnown, delayedUntil: delayedUntil.toISOString() } });
        return { kind: 'rejected', reason: 'login_delayed', delayedUntil };
      }
      if (!user || !passwordMatches) {
        const failure = await this.gatekeeper.recordFailure(attemptKey);
        // The failure that engages a lock or a delay says so: the audit trail shows when and until when.
        const lock = failure.lockedUntil ? { lockedUntil: failure.lockedUntil.toISOString(), failedAttempts: failure.failures } : {};
        const delay = failure.delayedUntil ? { delayedUntil: failure.delayedUntil.toISOString(), emailFailures: failure.emailFailures } : {};
        operation.fail('invalid_credentials', { subjectUserId, details: { userKnown, ...lock, ...delay } });
        return { kind: 'rejected', reason: 'invalid_credentials' };
      }
      const tokens = await this.unitOfWork.inTransaction(async (tx) => {
        // The session is tied to the credential verified: with the user row locked, a password
        // change either waits for this commit (and its revoke-all ends this session) or has
        // committed already, and the hash verified is no longer the password.
        const credentials = await tx.users.lockVerifiedCredentials(user.id, user.passwordHash);
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
      await this.gatekeeper.succeeded(attemptKey);
      return { kind: 'authenticated', ...tokens };
    });
  }

  private decoy(): Promise<string> {
    this.decoyHash ??= this.hasher.hash('decoy password that matches nothing');
    return this.decoyHash;
  }
}
