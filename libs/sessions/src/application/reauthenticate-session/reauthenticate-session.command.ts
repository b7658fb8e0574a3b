import { Command } from '@nestjs/cqrs';
import { RequestContext } from '../../domain/request-context';
import { RevocationReceipt } from '../revocation/revocation-receipt';

export type ReauthenticateOutcome =
  | { readonly kind: 'reauthenticated'; readonly reauthenticatedAt: Date }
  /**
   * invalid_password: counted with failed logins, like a wrong current password on a password
   * change (and past the lockout threshold the session is ended); session_inactive: the session
   * ended meanwhile; user_not_found: no such account.
   */
  | { readonly kind: 'rejected'; readonly reason: 'session_inactive' | 'user_not_found' }
  /**
   * A wrong password counts as a password guess; once it engages a lockout the session that made
   * it is ended (RevokeSession), and `revocation` is that revocation's receipt, else null.
   */
  | { readonly kind: 'rejected'; readonly reason: 'invalid_password'; readonly revocation: RevocationReceipt | null };

/**
 * The password entered again in a live session, for a step-up before a destructive action:
 * records when on the session (`reauthenticatedAt`), for whoever checks how recent it must be.
 */
export class ReauthenticateSession extends Command<ReauthenticateOutcome> {
  constructor(
    readonly userId: string,
    readonly sessionId: string,
    readonly password: string,
    readonly context: RequestContext,
  ) {
    super();
  }
}
