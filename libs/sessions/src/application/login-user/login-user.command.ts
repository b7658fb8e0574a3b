import { Command } from '@nestjs/cqrs';
import { RequestContext } from '../../domain/request-context';
import { TokenPair } from '../shared/token-pair';

export type LoginOutcome =
  | ({ readonly kind: 'authenticated' } & TokenPair)
  | { readonly kind: 'rejected'; readonly reason: 'invalid_credentials' };

/** Checks a password and opens a session. Unknown email and wrong password are one answer. */
export class LoginUser extends Command<LoginOutcome> {
  constructor(
    readonly email: string,
    readonly password: string,
    readonly context: RequestContext,
  ) {
    super();
  }
}
