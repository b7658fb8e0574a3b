import { Command } from '@nestjs/cqrs';
import { RequestContext } from '../../domain/request-context';

export type LogoutRejection = 'token_not_found' | 'token_already_revoked' | 'token_user_mismatch';

export type LogoutOutcome =
  | { readonly kind: 'revoked'; readonly userId: string; readonly sessionId: string }
  | { readonly kind: 'rejected'; readonly reason: LogoutRejection };

/** Ends the session a refresh token belongs to, with all its refresh tokens and access tokens. */
export class LogoutUser extends Command<LogoutOutcome> {
  constructor(
    readonly refreshToken: string,
    /** The user of the access token sent along, if any: the refresh token must then be theirs. */
    readonly userId: string | null,
    readonly context: RequestContext,
  ) {
    super();
  }
}
