import { Command } from '@nestjs/cqrs';
import { UserRole } from '../../domain/records';
import { RequestContext } from '../../domain/request-context';

export type RegisterOutcome =
  | { readonly kind: 'registered'; readonly userId: string; readonly email: string }
  | { readonly kind: 'rejected'; readonly reason: 'email_taken' }
  /** The email or the password is refused (see emailProblem, passwordProblem); `problem` says why. */
  | { readonly kind: 'rejected'; readonly reason: 'invalid_email' | 'weak_password'; readonly problem: string };

export class RegisterUser extends Command<RegisterOutcome> {
  constructor(
    readonly email: string,
    readonly password: string,
    readonly context: RequestContext,
    readonly role: UserRole = 'user',
  ) {
    super();
  }
}
