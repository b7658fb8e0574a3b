import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { v7 as uuidv7 } from 'uuid';
import { Actors } from '../../domain/actor';
import { passwordProblem } from '../../domain/password-policy';
import { NO_REQUEST_CONTEXT } from '../../domain/request-context';
import { normalizeEmail } from '../../domain/session-rules';
import { CLOCK, Clock } from '../ports/clock.port';
import { PASSWORD_HASHER, PasswordHasher } from '../ports/password-hasher.port';
import { UNIT_OF_WORK, UnitOfWork } from '../ports/unit-of-work.port';
import { AuditTrail } from '../audit/audit-trail';
import { BootstrapAdmin, BootstrapAdminOutcome } from './bootstrap-admin.command';
import { BOOTSTRAP_ADMIN_EVENTS } from './bootstrap-admin.events';
import { assertValidInput, Checks, InputRules } from '../validation/command-input';

const INPUT: InputRules<BootstrapAdmin> = {
  email: Checks.bounded(),
  password: Checks.bounded(),
};

@CommandHandler(BootstrapAdmin)
export class BootstrapAdminHandler implements ICommandHandler<BootstrapAdmin> {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly unitOfWork: UnitOfWork,
    @Inject(PASSWORD_HASHER) private readonly hasher: PasswordHasher,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly trail: AuditTrail,
  ) {}

  async execute(command: BootstrapAdmin): Promise<BootstrapAdminOutcome> {
    const userId = uuidv7();
    const operation = this.trail.begin(BOOTSTRAP_ADMIN_EVENTS, { actor: Actors.system(), subjectUserId: null, context: NO_REQUEST_CONTEXT });
    return operation.run(async () => {
      assertValidInput(command, INPUT);
      const email = normalizeEmail(command.email);
      const weak = passwordProblem(command.password, { email });
      if (weak) {
        operation.fail('weak_password', { details: { problem: weak } });
        return { kind: 'rejected', reason: 'weak_password', problem: weak };
      }
      const passwordHash = await this.hasher.hash(command.password);
      // One decision in one transaction: "no admin yet and the email is free" cannot change under us.
      const outcome = await this.unitOfWork.inTransaction(async (tx): Promise<BootstrapAdminOutcome> => {
        const inserted = await tx.users.insertFirstAdmin({ id: userId, email, passwordHash, role: 'admin', createdAt: this.clock.now() });
        if (inserted.kind === 'inserted') {
          await operation.succeedIn(tx, { subjectUserId: userId });
          return { kind: 'created', userId };
        }
        if (inserted.kind === 'email_taken' && inserted.role !== 'admin') return { kind: 'rejected', reason: 'email_taken', userId: inserted.userId };
        return { kind: 'rejected', reason: 'admin_exists' };
      });
      if (outcome.kind === 'rejected') operation.fail(outcome.reason, outcome.reason === 'email_taken' ? { subjectUserId: outcome.userId } : {});
      return outcome;
    });
  }
}
