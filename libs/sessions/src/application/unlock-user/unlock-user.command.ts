import { Command } from '@nestjs/cqrs';
import { Actor } from '../../domain/actor';
import { RequestContext } from '../../domain/request-context';

export type UnlockUserOutcome = { readonly kind: 'unlocked'; readonly locksCleared: number } | { readonly kind: 'rejected'; readonly reason: 'user_not_found' };

/**
 * Lifts the login lockouts of an account's email: every network's lock and failure count, and
 * the email-wide delay, so the owner can sign in at once from wherever they were locked out.
 * Succeeds (and is audited) when there was nothing to clear, too; locksCleared counts the locks
 * that were in force.
 */
export class UnlockUser extends Command<UnlockUserOutcome> {
  constructor(
    readonly userId: string,
    readonly reason: string,
    readonly actor: Actor,
    readonly context: RequestContext,
  ) {
    super();
  }
}
