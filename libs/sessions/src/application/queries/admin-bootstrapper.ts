import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { NO_REQUEST_CONTEXT } from '../../domain/request-context';
import { normalizeEmail } from '../../domain/session-rules';
import { SESSION_STORE, SessionStore } from '../ports/session-store.port';
import { RegisterUser } from '../register-user/register-user.command';

export type AdminBootstrapResult = 'created' | 'promoted' | 'unchanged';

/**
 * Makes sure the first administrator exists (from ADMIN_EMAIL / ADMIN_PASSWORD at start-up).
 * A new admin is registered through the audited RegisterUser command; an existing account
 * is promoted but keeps its password, so restarting never resets a changed password.
 */
@Injectable()
export class AdminBootstrapper {
  private readonly logger = new Logger(AdminBootstrapper.name);

  constructor(
    private readonly commandBus: CommandBus,
    @Inject(SESSION_STORE) private readonly store: SessionStore,
  ) {}

  async ensureAdmin(email: string, password: string): Promise<AdminBootstrapResult> {
    const existing = await this.store.findUserByEmail(normalizeEmail(email));
    if (existing?.role === 'admin') return 'unchanged';
    if (existing) {
      await this.store.inTransaction((tx) => tx.setUserRole(existing.id, 'admin'));
      this.logger.log({ msg: 'admin_promoted', userId: existing.id });
      return 'promoted';
    }
    const outcome = await this.commandBus.execute(new RegisterUser(email, password, NO_REQUEST_CONTEXT, 'admin'));
    if (outcome.kind === 'rejected') {
      // Another instance registered it between our read and our insert.
      return this.ensureAdmin(email, password);
    }
    this.logger.log({ msg: 'admin_created', userId: outcome.userId });
    return 'created';
  }
}
