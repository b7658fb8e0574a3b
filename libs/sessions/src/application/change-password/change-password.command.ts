import { Command } from '@nestjs/cqrs';
import { RequestContext } from '../../domain/request-context';
import { RevocationReceipt } from '../revocation/revocation-receipt';

export type ChangePasswordOutcome =
  /** The receipt of the other sessions ended (the caller's own stays). */
  | ({ readonly kind: 'changed' } & RevocationReceipt)
  | { readonly kind: 'rejected'; readonly reason: 'user_not_found' }
  /**
   * A wrong current password counts as a password guess; once it engages a lockout the session
   * that made it is ended (RevokeSession), and `revocation` is that revocation's receipt, else null.
   */
  | { readonly kind: 'rejected'; readonly reason: 'invalid_current_password'; readonly revocation: RevocationReceipt | null }
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
