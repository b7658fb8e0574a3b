import { Command } from '@nestjs/cqrs';
import { RequestContext } from '../../domain/request-context';
import { ConsoleSessionGrant, TokenPair } from '../tokens/token-pair';

/**
 * `app`: a web API session with its token pair. `console`: an admin console session (see
 * ConsoleSessionGrant), for administrators only: any other account is refused as a wrong password.
 */
export type LoginPurpose = 'app' | 'console';
export const LOGIN_PURPOSES: readonly LoginPurpose[] = ['app', 'console'];

/** What a login of this purpose hands out. */
export type LoginGrant<P extends LoginPurpose> = P extends 'console' ? ConsoleSessionGrant : TokenPair;

export type LoginRejection =
  | { readonly kind: 'rejected'; readonly reason: 'invalid_credentials' }
  /** Too many failed logins for this email (known or not); the password was not considered. */
  | { readonly kind: 'rejected'; readonly reason: 'account_locked'; readonly lockedUntil: Date }
  /** Too many failed logins for this email from everywhere, and this network never signed in to it: try later. */
  | { readonly kind: 'rejected'; readonly reason: 'login_delayed'; readonly delayedUntil: Date }
  /**
   * The right password, but the user holds `maxSessions` live web sessions already and the cap's
   * policy is deny_new (see SessionsModuleOptions.sessionLimit): nothing was opened.
   */
  | { readonly kind: 'rejected'; readonly reason: 'session_limit_reached'; readonly maxSessions: number };

export type LoginOutcome<P extends LoginPurpose = 'app'> = ({ readonly kind: 'authenticated' } & LoginGrant<P>) | LoginRejection;

/**
 * Checks a password and opens a session. Unknown email and wrong password are one answer;
 * too many failures lock the guessing network out of the email, and delay every other unknown
 * network (see LoginLockoutPolicy), whether or not an account has the email. A console login
 * goes through the same lockout, and a right password of a non-administrator is answered as a
 * wrong one (audited as `not_an_administrator`, not counted as a guess).
 */
export class LoginUser<P extends LoginPurpose = 'app'> extends Command<LoginOutcome<P>> {
  constructor(
    readonly email: string,
    readonly password: string,
    readonly context: RequestContext,
    readonly purpose: P = 'app' as P,
  ) {
    super();
  }
}
