import { ApiProblem, ProblemException } from '@app/platform';
import type { LoginRejection } from '@app/sessions';
import { HttpException, UnauthorizedException } from '@nestjs/common';

/**
 * What a sign-in route answers for every refused login, on the web API and the admin console
 * alike: one 401 whatever the reason (unknown email, wrong password, a lock, a delay, a disabled
 * account, and on the console an account that is not an administrator's), so the answer tells
 * nothing about accounts. The audit trail records the reason. The one exception is the session
 * cap under deny_new (409 below): only the right password of an account that may sign in reaches it.
 */
export const LOGIN_REFUSED_DESCRIPTION =
  'Unknown email, wrong password, a locked or delayed login, a disabled account or one that must reset its password (the same answer for all)';

/**
 * The problem type of a login refused by the session cap (SESSION_LIMIT_POLICY=deny_new); docs/api.md
 * says what it means. A tag URI (RFC 4151, which RFC 9457 §3.1.1 names for types that need not
 * resolve): the service has no address of its own to mint an http one under.
 */
export const SESSION_LIMIT_REACHED_TYPE = 'tag:session-revocation-service,2026:problems/session-limit-reached';

export const SESSION_LIMIT_REACHED_DESCRIPTION =
  'The password is right, but the account already holds SESSION_MAX_PER_USER live sessions and SESSION_LIMIT_POLICY is deny_new: ' +
  `\`type: ${SESSION_LIMIT_REACHED_TYPE}\`, \`code: session_limit_reached\`, \`maxSessions\`; sign out elsewhere, then sign in again`;

export function loginRefused(rejection: LoginRejection): HttpException {
  switch (rejection.reason) {
    case 'invalid_credentials':
    case 'account_locked':
    case 'login_delayed':
      return new UnauthorizedException('Invalid email or password');
    case 'session_limit_reached':
      // 409, not 401 (the credentials are right: a client must not ask for them again) nor 403
      // (nothing about the account forbids it): the request conflicts with the account's
      // current sessions, and succeeds once one of them ends (RFC 9110 §15.5.10).
      return new ProblemException(409, `This account already has ${rejection.maxSessions} active sessions; sign out of one, then sign in again`, {
        type: SESSION_LIMIT_REACHED_TYPE,
        title: 'Session limit reached',
        code: 'session_limit_reached',
        maxSessions: rejection.maxSessions,
      });
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
