import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actors } from '../../domain/actor';
import { UserRecord } from '../../domain/records';
import { normalizeEmail } from '../../domain/session-rules';
import { CLOCK, Clock } from '../ports/clock.port';
import { PASSWORD_HASHER, PasswordHasher } from '../ports/password-hasher.port';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { CredentialCheck, USER_ACCOUNTS, UserAccounts } from '../ports/user-accounts.port';
import { AuditedOperation, AuditTrail } from '../audit/audit-trail';
import { SessionLimits } from '../session-limit/session-limits';
import { SessionIssuer } from '../tokens/session-issuer';
import { ConsoleSessionGrant, TokenPair } from '../tokens/token-pair';
import { LoginGatekeeper } from './login-gatekeeper';
import { LOGIN_PURPOSES, LoginOutcome, LoginPurpose, LoginUser } from './login-user.command';
import { LOGIN_EVENTS } from './login-user.events';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';

/** Why a right password still opens no session: the account's state, (console) its role, or the session cap. */
type Refusal = Exclude<CredentialCheck, 'current'> | 'not_an_administrator' | 'session_limit_reached';

/** Audit reasons of a right password that still opens no session. */
const REFUSAL_REASONS: Record<Refusal, string> = {
  changed: 'invalid_credentials',
  user_not_found: 'invalid_credentials',
  disabled: 'user_disabled',
  reset_required: 'password_reset_required',
  not_an_administrator: 'not_an_administrator',
  session_limit_reached: 'session_limit_reached',
};

/** The cap a deny_new login met, for its answer and its audit entry. */
interface LimitReached {
  readonly maxPerUser: number;
  readonly live: number;
}

const INPUT: InputRules<LoginUser<LoginPurpose>> = {
  email: Checks.bounded(),
  password: Checks.bounded(),
  context: Checks.context(),
  purpose: Checks.oneOf(LOGIN_PURPOSES),
};

type OpenedSession =
  | { readonly kind: 'opened'; readonly grant: TokenPair | ConsoleSessionGrant }
  | { readonly kind: 'refused'; readonly check: Refusal; readonly rehashAttempted: boolean; readonly limit?: LimitReached };

/** Rolls back a rehash stored by a login that is then refused. */
class RefusedAfterRehash extends Error {
  constructor(
    readonly check: Refusal,
    readonly limit?: LimitReached,
  ) {
    super(`login refused (${check}) after the password was rehashed`);
  }
}

@CommandHandler(LoginUser)
export class LoginUserHandler implements ICommandHandler<LoginUser<LoginPurpose>> {
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
    private readonly limits: SessionLimits,
  ) {}

  async execute(command: LoginUser<LoginPurpose>): Promise<LoginOutcome<LoginPurpose>> {
    const operation = this.trail.begin(LOGIN_EVENTS, {
      actor: Actors.anonymous(),
      subjectUserId: null,
      context: command.context,
      details: purposeOf(command, {}),
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
        operation.fail('account_locked', { subjectUserId, details: purposeOf(command, { userKnown, lockedUntil: lockedUntil.toISOString() }) });
        return { kind: 'rejected', reason: 'account_locked', lockedUntil };
      }
      if (verdict.kind === 'delayed') {
        const { delayedUntil } = verdict;
        operation.fail('login_delayed', { subjectUserId, details: purposeOf(command, { userKnown, delayedUntil: delayedUntil.toISOString() }) });
        return { kind: 'rejected', reason: 'login_delayed', delayedUntil };
      }
      if (!user || !passwordMatches) {
        const failure = await this.gatekeeper.recordFailure(attemptKey, subjectUserId);
        // The failure that engages a lock or a delay says so: the audit trail shows when and until when.
        const lock = failure.lockedUntil ? { lockedUntil: failure.lockedUntil.toISOString(), failedAttempts: failure.failures } : {};
        const delay = failure.delayedUntil ? { delayedUntil: failure.delayedUntil.toISOString(), emailFailures: failure.emailFailures } : {};
        operation.fail('invalid_credentials', { subjectUserId, details: purposeOf(command, { userKnown, ...lock, ...delay }) });
        return { kind: 'rejected', reason: 'invalid_credentials' };
      }
      let opened = await this.openSession(user, command, operation);
      if (opened.kind === 'refused' && opened.check === 'changed' && opened.rehashAttempted) {
        // The hash was replaced since it was read: by a password change, or by a concurrent
        // login's rehash of this same password, which then verifies against the stored hash.
        const fresh = await this.users.findById(user.id);
        if (fresh && (await this.hasher.verify(fresh.passwordHash, command.password))) opened = await this.openSession(fresh, command, operation);
      }
      if (opened.kind === 'refused' && opened.limit) {
        // Reached only with the right password of an account that may sign in: the answer
        // confirms nothing a wrong password could learn. Not a guess, and not a success either:
        // the lockout's counts stay as they were.
        const { maxPerUser, live } = opened.limit;
        operation.fail(REFUSAL_REASONS.session_limit_reached, { subjectUserId, details: purposeOf(command, { maxPerUser, liveSessions: live }) });
        return { kind: 'rejected', reason: 'session_limit_reached', maxSessions: maxPerUser };
      }
      if (opened.kind === 'refused') {
        const refusal = opened.check;
        // The caller gets the answer of a wrong password (a disabled account, or one that is not
        // an administrator's, is not confirmed to whoever holds its password); the audit trail
        // says why. Not a guess: the password was right, so the lockout does not count it.
        operation.fail(REFUSAL_REASONS[refusal], {
          subjectUserId,
          details: purposeOf(command, { userKnown, ...(refusal === 'changed' ? { passwordChangedMeanwhile: true } : {}) }),
        });
        return { kind: 'rejected', reason: 'invalid_credentials' };
      }
      await this.gatekeeper.succeeded(attemptKey);
      return { kind: 'authenticated', ...opened.grant };
    });
  }

  /**
   * Opens the session in one transaction, tied to the credential verified: with the user row
   * locked, a password change either waits for this commit (and its revoke-all ends this session)
   * or has committed already, and the hash verified is no longer the password. A hash the hasher
   * wants replaced (an older scheme or cost) is rehashed before the transaction (hashing is slow)
   * and stored in it, only if the stored hash is still the one verified.
   */
  private async openSession(user: UserRecord, command: LoginUser<LoginPurpose>, operation: AuditedOperation): Promise<OpenedSession> {
    const rehash = this.hasher.needsRehash(user.passwordHash) ? await this.hasher.hash(command.password) : null;
    try {
      return await this.unitOfWork.inTransaction(async (tx): Promise<OpenedSession> => {
        // The rehash's UPDATE comes first and takes the row lock: taking the share lock first and
        // then upgrading it would deadlock two logins doing the same.
        const rehashed = rehash !== null && (await tx.users.replacePasswordHash(user.id, user.passwordHash, rehash));
        const credentials = await tx.users.lockVerifiedCredentials(user.id, rehashed ? rehash : user.passwordHash, this.limits.credentialLock(command.purpose));
        if (credentials !== 'current') {
          // A refused login changes nothing: the rehash rolls back with it.
          if (rehashed) throw new RefusedAfterRehash(credentials);
          return { kind: 'refused', check: credentials, rehashAttempted: rehash !== null };
        }
        // The role as of this transaction (the row is share-locked): a demotion either committed
        // before, and is seen, or waits for this login's commit.
        if (command.purpose === 'console' && (await tx.users.findById(user.id))?.role !== 'admin') {
          if (rehashed) throw new RefusedAfterRehash('not_an_administrator');
          return { kind: 'refused', check: 'not_an_administrator', rehashAttempted: rehash !== null };
        }
        const now = this.clock.now();
        // Console sessions are not counted, nor capped (see SessionLimit).
        const capped =
          command.purpose === 'app'
            ? await this.limits.enforce(tx, { userId: user.id, context: command.context, loginCorrelationId: operation.correlationId, now })
            : null;
        if (capped?.kind === 'reached') {
          const limit = { maxPerUser: capped.maxPerUser, live: capped.live };
          if (rehashed) throw new RefusedAfterRehash('session_limit_reached', limit);
          return { kind: 'refused', check: 'session_limit_reached', rehashAttempted: rehash !== null, limit };
        }
        const evicted = capped?.evicted.length ? { evictedSessionIds: capped.evicted } : {};
        const grant =
          command.purpose === 'console'
            ? await this.issuer.openConsoleSession(tx, user.id, command.context, now)
            : await this.issuer.openSession(tx, user.id, command.context, now);
        await operation.succeedIn(tx, {
          actor: Actors.user(user.id),
          subjectUserId: user.id,
          sessionId: grant.sessionId,
          details: purposeOf(command, { ...(rehashed ? { passwordRehashed: true } : {}), ...evicted }),
        });
        return { kind: 'opened', grant };
      });
    } catch (error) {
      if (error instanceof RefusedAfterRehash) return { kind: 'refused', check: error.check, rehashAttempted: true, limit: error.limit };
      throw error;
    }
  }

  private decoy(): Promise<string> {
    this.decoyHash ??= this.hasher.hash('decoy password that matches nothing');
    return this.decoyHash;
  }
}

/** Every audit entry of a console login says so; an app login's entries stay as they were. */
function purposeOf(command: LoginUser<LoginPurpose>, details: Record<string, unknown>): Record<string, unknown> {
  return command.purpose === 'console' ? { purpose: 'console', ...details } : details;
}
