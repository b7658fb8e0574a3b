import { Command } from '@nestjs/cqrs';
import { RequestContext } from '../../domain/request-context';
import { TokenPair } from '../tokens/token-pair';
import { RevocationReceipt } from '../revocation/revocation-receipt';

/** console_session: the credential of an admin console session, which is never traded for tokens. */
export type RefreshRejection = 'token_not_found' | 'token_expired' | 'token_revoked' | 'session_inactive' | 'refresh_token_reuse' | 'console_session';

export type RefreshOutcome =
  | ({ readonly kind: 'refreshed' } & TokenPair)
  | { readonly kind: 'rejected'; readonly reason: Exclude<RefreshRejection, 'refresh_token_reuse'> }
  /**
   * A retired token presented again: its session is ended (RevokeSession), and `revocation` is that
   * revocation's receipt; null when the session had ended meanwhile (by another request).
   */
  | { readonly kind: 'rejected'; readonly reason: 'refresh_token_reuse'; readonly revocation: RevocationReceipt | null };

/** Trades a refresh token for a new pair; the old refresh token is retired (rotation). */
export class RefreshTokens extends Command<RefreshOutcome> {
  constructor(
    readonly refreshToken: string,
    readonly context: RequestContext,
  ) {
    super();
  }
}
