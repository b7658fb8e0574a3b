import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { normalizeEmail } from '../../domain/session-rules';
import { USER_ACCOUNTS, UserAccounts } from '../ports/user-accounts.port';
import { BootstrapAdmin } from './bootstrap-admin.command';

export type AdminBootstrapResult = 'created' | 'unchanged';

/** ADMIN_EMAIL names an account that is not an administrator: start-up must stop. */
export class AdminBootstrapConflict extends Error {
  constructor(
    readonly email: string,
    readonly userId: string,
  ) {
    super(
      `ADMIN_EMAIL (${email}) belongs to an existing account that is not an administrator (user ${userId}); ` +
        'it is not promoted, because whoever registered that address would become admin with their own password. ' +
        'Set ADMIN_EMAIL to an address no account uses (or unset it), or have an administrator change that role ' +
        `with POST /admin/users/${userId}/role, then start again.`,
    );
    this.name = 'AdminBootstrapConflict';
  }
}

/** ADMIN_PASSWORD fails the password policy: no administrator is created, start-up must stop. */
export class AdminPasswordRefused extends Error {
  constructor(readonly problem: string) {
    super(`ADMIN_PASSWORD is refused by the password policy: it ${problem}. Choose another (a long passphrase works), then start again.`);
    this.name = 'AdminPasswordRefused';
  }
}

/**
 * Makes sure an administrator exists at start-up (from ADMIN_EMAIL / ADMIN_PASSWORD). Only when
 * none exists is one created, through the audited BootstrapAdmin command (actor: system). An
 * existing account is never promoted and never gets its password reset: if the address belongs
 * to a non-admin, start-up stops (AdminBootstrapConflict), whether or not an admin exists.
 */
@Injectable()
export class AdminBootstrapper {
  constructor(
    private readonly commandBus: CommandBus,
    @Inject(USER_ACCOUNTS) private readonly users: UserAccounts,
  ) {}

  async ensureAdmin(email: string, password: string): Promise<AdminBootstrapResult> {
    // Reads first, so an ordinary restart (the admin exists) writes nothing to the audit trail.
    const existing = await this.users.findByEmail(normalizeEmail(email));
    if (existing?.role === 'admin') return 'unchanged';
    if (!existing && (await this.users.adminExists())) return 'unchanged';
    const outcome = await this.commandBus.execute(new BootstrapAdmin(email, password));
    if (outcome.kind === 'created') return 'created';
    if (outcome.reason === 'email_taken') throw new AdminBootstrapConflict(normalizeEmail(email), outcome.userId);
    if (outcome.reason === 'weak_password') throw new AdminPasswordRefused(outcome.problem);
    return 'unchanged';
  }
}
