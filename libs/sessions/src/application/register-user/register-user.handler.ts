import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { v7 as uuidv7 } from 'uuid';
import { Actors } from '../../domain/actor';
import { passwordProblem } from '../../domain/password-policy';
import { emailProblem, normalizeEmail } from '../../domain/session-rules';
import { CLOCK, Clock } from '../ports/clock.port';
import { PASSWORD_HASHER, PasswordHasher } from '../ports/password-hasher.port';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { AuditTrail } from '../audit/audit-trail';
import { RegisterOutcome, RegisterUser } from './register-user.command';
import { REGISTER_EVENTS } from './register-user.events';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';

const INPUT: InputRules<RegisterUser> = {
  email: Checks.bounded(),
  password: Checks.bounded(),
  context: Checks.context(),
};

@CommandHandler(RegisterUser)
export class RegisterUserHandler implements ICommandHandler<RegisterUser> {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    @Inject(PASSWORD_HASHER) private readonly hasher: PasswordHasher,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly trail: AuditTrail,
  ) {}

  async execute(command: RegisterUser): Promise<RegisterOutcome> {
    const userId = uuidv7();
    const operation = this.trail.begin(REGISTER_EVENTS, {
      actor: Actors.anonymous(),
      subjectUserId: null,
      context: command.context,
      details: { role: 'user' },
    });
    return operation.run(async () => {
      assertValidInput(command, INPUT);
      const email = normalizeEmail(command.email);
      const emailRefused = emailProblem(command.email);
      if (emailRefused) {
        operation.fail('invalid_email', { details: { problem: emailRefused } });
        return { kind: 'rejected', reason: 'invalid_email', problem: emailRefused };
      }
      const passwordRefused = passwordProblem(command.password, { email });
      if (passwordRefused) {
        operation.fail('weak_password', { details: { problem: passwordRefused } });
        return { kind: 'rejected', reason: 'weak_password', problem: passwordRefused };
      }
      const passwordHash = await this.hasher.hash(command.password);
      const created = await this.unitOfWork.inTransaction(async (tx) => {
        const inserted = await tx.users.insert({ id: userId, email, passwordHash, role: 'user', createdAt: this.clock.now() });
        if (inserted) await operation.succeedIn(tx, { subjectUserId: userId });
        return inserted;
      });
      if (!created) {
        operation.fail('email_taken');
        return { kind: 'rejected', reason: 'email_taken' };
      }
      return { kind: 'registered', userId, email };
    });
  }
}
