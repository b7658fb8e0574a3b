import { Command } from '@nestjs/cqrs';
import { RequestContext } from '../../domain/request-context';
import { TokenPair } from '../tokens/token-pair';

export type LoginOutcome =
  | ({ readonly kind: 'authenticated' } & TokenPair)
  | { readonly kind: 'rejected'; readonly reason: 'invalid_credentials' }
  /** Too many failed logins for this email (known or not); the password was not considered. */
  | { readonly kind: 'rejected'; readonly reason: 'account_locked'; readonly lockedUntil: Date }
  /** Too many failed logins for this email from everywhere, and this network never signed in to it: try later. */
  | { readonly kind: 'rejected'; readonly reason: 'login_delayed'; readonly delayedUntil: Date };

/**
 * Checks a password and opens a session. Unknown email and wrong password are one answer;
 * too many failures lock the guessing network out of the email, and delay every other unknown
 * network (see LoginLockoutPolicy), whether or not an account has the email.
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
