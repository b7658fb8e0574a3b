import { Command } from '@nestjs/cqrs';
import { Actor } from '../../domain/actor';
import { RequestContext } from '../../domain/request-context';

export type EnableUserOutcome = { readonly kind: 'enabled' } | { readonly kind: 'rejected'; readonly reason: 'user_not_found' };

/** Lets a disabled account sign in again. Its ended sessions stay ended; a required password reset stays required. */
export class EnableUser extends Command<EnableUserOutcome> {
  constructor(
    readonly userId: string,
    readonly reason: string,
    readonly actor: Actor,
    readonly context: RequestContext,
  ) {
    super();
  }
}
