import { Command } from '@nestjs/cqrs';
import { Actor } from '../../domain/actor';
import { RequestContext } from '../../domain/request-context';
import { RevocationReceipt } from '../revocation/revocation-receipt';

export type RevokeAllOutcome = ({ readonly kind: 'revoked' } & RevocationReceipt) | { readonly kind: 'rejected'; readonly reason: 'user_not_found' };

/** Ends every active session of a user, optionally but one; answers its receipt. An unknown user is an audited rejection. */
export class RevokeAllUserSessions extends Command<RevokeAllOutcome> {
  constructor(
    readonly userId: string,
    readonly reason: string,
    readonly actor: Actor,
    readonly context: RequestContext,
    /** A session to leave alive, typically the caller's own. */
    readonly exceptSessionId: string | null = null,
  ) {
    super();
  }
}

/**
 * For a command that dispatches the revoke-all inside its own transaction after locking or
 * changing the user's row: the user exists there, so a rejection is a bug, and throwing rolls the
 * whole change back (its operation then records Failed `internal_error`).
 */
export function sessionsRevoked(outcome: RevokeAllOutcome, by: string): Extract<RevokeAllOutcome, { kind: 'revoked' }> {
  if (outcome.kind !== 'revoked') throw new Error(`The revoke-all of ${by} was rejected: ${outcome.reason}`);
  return outcome;
}
