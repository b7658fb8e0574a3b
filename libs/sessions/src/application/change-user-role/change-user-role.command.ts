import { Command } from '@nestjs/cqrs';
import { Actor } from '../../domain/actor';
import { UserRole } from '../../domain/records';
import { RequestContext } from '../../domain/request-context';

export type ChangeUserRoleOutcome =
  | { readonly kind: 'changed'; readonly userId: string; readonly role: UserRole; readonly previousRole: UserRole }
  /**
   * user_not_found: no such account; last_admin: demoting it would leave no administrator;
   * cannot_demote_self: an administrator took their own role away (another administrator must).
   */
  | { readonly kind: 'rejected'; readonly reason: 'user_not_found' | 'last_admin' | 'cannot_demote_self' };

/**
 * Gives a user a role, with the administrator's reason. The only writer of users.role after an
 * account exists. It ends no session: the admin guard reads the role on every request, so a
 * demotion takes effect at once.
 */
export class ChangeUserRole extends Command<ChangeUserRoleOutcome> {
  constructor(
    readonly userId: string,
    readonly role: UserRole,
    readonly reason: string,
    readonly actor: Actor,
    readonly context: RequestContext,
  ) {
    super();
  }
}
