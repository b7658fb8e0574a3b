import { Command } from '@nestjs/cqrs';

export type BootstrapAdminOutcome =
  | { readonly kind: 'created'; readonly userId: string }
  /** An administrator exists already (another instance may just have created it): nothing to do. */
  | { readonly kind: 'rejected'; readonly reason: 'admin_exists' }
  /** The email belongs to an account that is not an administrator; it is never promoted. */
  | { readonly kind: 'rejected'; readonly reason: 'email_taken'; readonly userId: string }
  /** ADMIN_PASSWORD is refused by the password policy (`problem` says why): no admin is created. */
  | { readonly kind: 'rejected'; readonly reason: 'weak_password'; readonly problem: string };

/**
 * Creates the first administrator from configuration (ADMIN_EMAIL / ADMIN_PASSWORD), by the
 * system, only while no administrator exists. An existing account is never promoted: whoever
 * registered that address first would otherwise become admin with their own password.
 */
export class BootstrapAdmin extends Command<BootstrapAdminOutcome> {
  constructor(
    readonly email: string,
    readonly password: string,
  ) {
    super();
  }
}
