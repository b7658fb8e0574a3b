import { Command } from '@nestjs/cqrs';
import { Actor } from '../../domain/actor';
import { RequestContext } from '../../domain/request-context';
import { RevocationReceipt } from '../revocation/revocation-receipt';

/** The receipt's sessionIds is `[sessionId]`. */
export type RevokeSessionOutcome =
  | ({ readonly kind: 'revoked'; readonly sessionId: string; readonly userId: string } & RevocationReceipt)
  | { readonly kind: 'rejected'; readonly reason: 'session_not_found' };

/**
 * Ends one active session of a user. Another user's session, or an ended one, is "not found".
 * A null userId (an administrator's action) means whoever's session it is.
 */
export class RevokeSession extends Command<RevokeSessionOutcome> {
  constructor(
    readonly userId: string | null,
    readonly sessionId: string,
    readonly reason: string,
    readonly actor: Actor,
    readonly context: RequestContext,
    /** Extra facts for the audit trail (for example both origins of a reused refresh token). */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super();
  }
}
