import { Command } from '@nestjs/cqrs';
import { UserRole } from '../../domain/records';
import { RequestContext } from '../../domain/request-context';

export type RegisterOutcome =
  | { readonly kind: 'registered'; readonly userId: string; readonly email: string }
  | { readonly kind: 'rejected'; readonly reason: 'email_taken' };

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
