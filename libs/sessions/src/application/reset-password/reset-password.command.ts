import { Command } from '@nestjs/cqrs';
import { RequestContext } from '../../domain/request-context';
import { RevocationReceipt } from '../revocation/revocation-receipt';

export type ResetPasswordOutcome =
  | ({ readonly kind: 'reset'; readonly userId: string } & RevocationReceipt)
  | { readonly kind: 'rejected'; readonly reason: 'reset_token_invalid' }
  /** The new password is refused by the password policy; `problem` says why. The token stays usable. */
  | { readonly kind: 'rejected'; readonly reason: 'weak_password'; readonly problem: string };

/**
 * Redeems a password reset token (from RequirePasswordReset): sets the new password, lifts the
 * reset requirement and ends any session, once. An unknown, used or expired token is one answer.
 * A disabled account stays disabled.
 */
export class ResetPassword extends Command<ResetPasswordOutcome> {
  constructor(
    readonly resetToken: string,
    readonly newPassword: string,
    readonly context: RequestContext,
  ) {
    super();
  }
}
