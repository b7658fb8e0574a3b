import { ApiProblem } from '@app/platform';
import type { LoginRejection } from '@app/sessions';
import { UnauthorizedException } from '@nestjs/common';

/**
 * What a sign-in route answers for every refused login, on the web API and the admin console
 * alike: one 401 whatever the reason (unknown email, wrong password, a lock, a delay, a disabled
 * account, and on the console an account that is not an administrator's), so the answer tells
 * nothing about accounts. The audit trail records the reason.
 */
export const LOGIN_REFUSED_DESCRIPTION =
  'Unknown email, wrong password, a locked or delayed login, a disabled account or one that must reset its password (the same answer for all)';

export function loginRefused(rejection: LoginRejection): UnauthorizedException {
  switch (rejection.reason) {
    case 'invalid_credentials':
    case 'account_locked':
    case 'login_delayed':
      return new UnauthorizedException('Invalid email or password');
    default:
      return assertNever(rejection);
  }
}

/** The 401 of loginRefused, documented; `description` for a route that refuses more (the console: non-administrators). */
export function RefusesLogins(description: string = LOGIN_REFUSED_DESCRIPTION): MethodDecorator {
  return ApiProblem(401, description);
}

function assertNever(value: never): never {
  throw new Error(`Unhandled login rejection: ${JSON.stringify(value)}`);
}
