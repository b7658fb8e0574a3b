import { Command } from '@nestjs/cqrs';
import { Actor } from '../../domain/actor';
import { RequestContext } from '../../domain/request-context';
import { RevocationReceipt } from '../revocation/revocation-receipt';

/** The receipt is the revoke-all's: the sessions the disable ended. */
export type DisableUserOutcome = ({ readonly kind: 'disabled' } & RevocationReceipt) | { readonly kind: 'rejected'; readonly reason: 'user_not_found' };

/**
 * Disables an account and ends every session of it, in one transaction: its logins are refused
 * (with the answer of a wrong password) until EnableUser, and refresh tokens die with their
 * sessions. Disabling a disabled account ends any session again and keeps the first date.
 */
export class DisableUser extends Command<DisableUserOutcome> {
  constructor(
    readonly userId: string,
    readonly reason: string,
    readonly actor: Actor,
    readonly context: RequestContext,
  ) {
    super();
  }
}
