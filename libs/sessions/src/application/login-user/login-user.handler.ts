import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actors } from '../../domain/actor';
import { normalizeEmail } from '../../domain/session-rules';
import { CLOCK, Clock } from '../ports/clock.port';
import { PASSWORD_HASHER, PasswordHasher } from '../ports/password-hasher.port';
import { SESSION_STORE, SessionStore } from '../ports/session-store.port';
import { AuditTrail } from '../shared/audit-trail';
import { SessionIssuer } from '../shared/session-issuer';
import { LoginOutcome, LoginUser } from './login-user.command';
import { LOGIN_EVENTS } from './login-user.events';

@CommandHandler(LoginUser)
export class LoginUserHandler implements ICommandHandler<LoginUser> {
  /** Verified against when the email is unknown, so both failures take the same time. */
  private decoyHash: Promise<string> | undefined;

  constructor(
    @Inject(SESSION_STORE) private readonly store: SessionStore,
    @Inject(PASSWORD_HASHER) private readonly hasher: PasswordHasher,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly trail: AuditTrail,
    private readonly issuer: SessionIssuer,
  ) {}

  async execute(command: LoginUser): Promise<LoginOutcome> {
    const operation = this.trail.begin(LOGIN_EVENTS, {
      actor: Actors.anonymous(),
      subjectUserId: null,
      context: command.context,
    });
    return operation.run(async () => {
      const user = await this.store.findUserByEmail(normalizeEmail(command.email));
      const passwordMatches = await this.hasher.verify(user?.passwordHash ?? (await this.decoy()), command.password);
      if (!user || !passwordMatches) {
        operation.fail('invalid_credentials', { subjectUserId: user?.id ?? null, details: { userKnown: user !== null } });
        return { kind: 'rejected', reason: 'invalid_credentials' };
      }
      const tokens = await this.store.inTransaction(async (tx) => {
        const issued = await this.issuer.openSession(tx, user.id, command.context, this.clock.now());
        await operation.succeedIn(tx, { actor: Actors.user(user.id), subjectUserId: user.id, sessionId: issued.sessionId });
        return issued;
      });
      return { kind: 'authenticated', ...tokens };
    });
  }

  private decoy(): Promise<string> {
    this.decoyHash ??= this.hasher.hash('decoy password that matches nothing');
    return this.decoyHash;
  }
}
