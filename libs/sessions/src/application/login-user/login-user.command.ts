import { Command } from '@nestjs/cqrs';
import { RequestContext } from '../../domain/request-context';
import { TokenPair } from '../shared/token-pair';

export type LoginOutcome =
  | ({ readonly kind: 'authenticated' } & TokenPair)
  | { readonly kind: 'rejected'; readonly reason: 'invalid_credentials' }
  /** Too many failed logins for this email (known or not); the password was not considered. */
  | { readonly kind: 'rejected'; readonly reason: 'account_locked'; readonly lockedUntil: Date };

/**
 * Checks a password and opens a session. Unknown email and wrong password are one answer;
 * after too many failures an email is locked for a while, whether or not an account has it.
 */
export class LoginUser extends Command<LoginOutcome> {
  constructor(
    readonly email: string,
    readonly password: string,
    readonly context: RequestContext,
  ) {
    super();
  }
}
