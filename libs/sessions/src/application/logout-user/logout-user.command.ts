import { Command } from '@nestjs/cqrs';
import { RequestContext } from '../../domain/request-context';
import { RevocationReceipt } from '../revocation/revocation-receipt';

export type LogoutRejection = 'token_not_found' | 'token_already_revoked' | 'token_user_mismatch';

/**
 * Either way a receipt: a rejected logout ended nothing (revokedCount 0, sessionIds []), and its
 * effectiveAt is when its statements ran.
 */
export type LogoutOutcome = (
  { readonly kind: 'revoked'; readonly userId: string; readonly sessionId: string } | { readonly kind: 'rejected'; readonly reason: LogoutRejection }
) &
  RevocationReceipt;

/**
 * Ends the session a refresh token belongs to (its live token, or one rotated away while the
 * session lives), with all its refresh tokens and access tokens; and the session of the access
 * token sent along, if any, whatever the refresh token turns out to be.
 */
export class LogoutUser extends Command<LogoutOutcome> {
  constructor(
    readonly refreshToken: string,
    /** The user of the access token sent along, if any: the refresh token must then be theirs. */
    readonly userId: string | null,
    readonly context: RequestContext,
    /** The session of that (valid) access token: it ends too. */
    readonly sessionId: string | null = null,
  ) {
    super();
  }
}
