import { Command } from '@nestjs/cqrs';
import { Actor } from '../../domain/actor';
import { RequestContext } from '../../domain/request-context';
import { RevocationReceipt } from '../revocation/revocation-receipt';

export type RequirePasswordResetOutcome =
  | ({
      readonly kind: 'reset_required';
      /** Shown once, to the administrator, who hands it to the user; only its SHA-256 is stored. */
      readonly resetToken: string;
      /** The reset token's. */
      readonly expiresAt: Date;
    } & RevocationReceipt)
  | { readonly kind: 'rejected'; readonly reason: 'user_not_found' };

/**
 * "Revoke all and require a password reset", as one action: every session of the user ends,
 * the current password stops working (its logins get the answer of a wrong password), and a
 * one-time reset token is issued, valid for PASSWORD_RESET_TOKEN_TTL_SECONDS, which sets a new
 * password (ResetPassword). Issuing another replaces the previous token.
 */
export class RequirePasswordReset extends Command<RequirePasswordResetOutcome> {
  constructor(
    readonly userId: string,
    readonly reason: string,
    readonly actor: Actor,
    readonly context: RequestContext,
  ) {
    super();
  }
}
