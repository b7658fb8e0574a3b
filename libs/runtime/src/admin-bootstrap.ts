import { BootstrapAdmin, type BootstrapAdminOutcome, normalizeEmail, SessionDirectory } from '@app/sessions';
import { INestApplicationContext, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { RuntimeSettings } from './runtime-settings';

/** ADMIN_EMAIL names an account that is not an administrator: start-up must stop. */
export class AdminBootstrapConflict extends Error {
  override readonly name = 'AdminBootstrapConflict';

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
  }
}

/** ADMIN_PASSWORD fails the password policy: no administrator is created, start-up must stop. */
export class AdminPasswordRefused extends Error {
  override readonly name = 'AdminPasswordRefused';

  constructor(readonly problem: string) {
    super(`ADMIN_PASSWORD is refused by the password policy: it ${problem}. Choose another (a long passphrase works), then start again.`);
  }
}

export type AdminBootstrapResult = 'created' | 'unchanged';

/**
 * Makes sure an administrator exists (from ADMIN_EMAIL / ADMIN_PASSWORD): only when none exists
 * is one created, through the library's audited BootstrapAdmin command (actor: system). Reads
 * first, through SessionDirectory, so an ordinary restart writes nothing to the audit trail. An
 * existing account is never promoted and never gets its password reset: if the address belongs
 * to a non-admin, start-up stops (AdminBootstrapConflict), whether or not an admin exists.
 */
export async function ensureAdministrator(app: INestApplicationContext, email: string, password: string): Promise<AdminBootstrapResult> {
  const directory = app.get(SessionDirectory);
  const existing = await directory.findUserByEmail(email);
  if (existing?.role === 'admin') return 'unchanged';
  if (!existing && (await directory.adminExists())) return 'unchanged';
  const outcome: BootstrapAdminOutcome = await app.get(CommandBus).execute(new BootstrapAdmin(email, password));
  if (outcome.kind === 'created') return 'created';
  switch (outcome.reason) {
    case 'email_taken':
      throw new AdminBootstrapConflict(normalizeEmail(email), outcome.userId);
    case 'weak_password':
      throw new AdminPasswordRefused(outcome.problem);
    case 'admin_exists':
      // Another instance created one between the read and the command.
      return 'unchanged';
    default:
      return assertNever(outcome);
  }
}

/**
 * Runs ensureAdministrator after init (once the CQRS handlers are registered) when ADMIN_EMAIL is
 * set; on a refusal it closes the app, then throws: start-up stops with the reason.
 */
export async function seedAdministrator(app: INestApplicationContext, settings: RuntimeSettings): Promise<void> {
  const admin = settings.admin;
  if (!admin) return;
  let result: AdminBootstrapResult;
  try {
    result = await ensureAdministrator(app, admin.email, admin.password);
  } catch (error) {
    await app.close();
    throw error;
  }
  if (result === 'created') new Logger('AdminSeed').log('Administrator created from ADMIN_EMAIL');
}

function assertNever(value: never): never {
  throw new Error(`Unexpected BootstrapAdmin outcome ${JSON.stringify(value)}`);
}
