import { Command } from '@nestjs/cqrs';
import { RequestContext } from '../../domain/request-context';

export type RegisterOutcome =
  | { readonly kind: 'registered'; readonly userId: string; readonly email: string }
  | { readonly kind: 'rejected'; readonly reason: 'email_taken' }
  /** The email or the password is refused (see emailProblem, passwordProblem); `problem` says why. */
  | { readonly kind: 'rejected'; readonly reason: 'invalid_email' | 'weak_password'; readonly problem: string };

/** Creates an ordinary account. Administrators come only from BootstrapAdmin or ChangeUserRole. */
export class RegisterUser extends Command<RegisterOutcome> {
  constructor(
    readonly email: string,
    readonly password: string,
    readonly context: RequestContext,
  ) {
    super();
  }
}
