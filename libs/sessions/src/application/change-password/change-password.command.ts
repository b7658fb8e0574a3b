import { Command } from '@nestjs/cqrs';
import { RequestContext } from '../../domain/request-context';

export type ChangePasswordOutcome =
  | { readonly kind: 'changed'; readonly revokedCount: number }
  | { readonly kind: 'rejected'; readonly reason: 'invalid_current_password' | 'user_not_found' }
  /** The new password is refused by the password policy (see passwordProblem); `problem` says why. */
  | { readonly kind: 'rejected'; readonly reason: 'weak_password'; readonly problem: string };

/** Sets a new password and ends every other session of the user, in one transaction. */
export class ChangePassword extends Command<ChangePasswordOutcome> {
  constructor(
    readonly userId: string,
    /** The caller's own session, which stays signed in. */
    readonly currentSessionId: string,
    readonly currentPassword: string,
    readonly newPassword: string,
    readonly context: RequestContext,
  ) {
    super();
  }
}
