import { type AuditOutcome, RevocationReasons } from '@app/sessions';

/** Which app a series is about: the web API or the admin console (one process may run both). */
export type AppName = 'web' | 'admin';

/** The route label of a request that reached no route: unknown paths, and what was answered before routing. */
export const UNMATCHED_ROUTE = 'unmatched';

const SYSTEM_REASONS: ReadonlySet<string> = new Set(Object.values(RevocationReasons));

/**
 * A revocation's reason as a label: the system's codes as they are, and `admin_stated` for the
 * free text an administrator (or a service) gives, which would make a series per sentence.
 */
export function revocationReasonLabel(reason: string | null): string {
  if (reason === null) return 'unknown';
  return SYSTEM_REASONS.has(reason) ? reason : 'admin_stated';
}

/** The reasons a login fails with (LoginUserHandler, AuditedOperation); anything else is `other`. */
const LOGIN_FAILURES: ReadonlySet<string> = new Set([
  'invalid_credentials',
  'account_locked',
  'login_delayed',
  'user_disabled',
  'password_reset_required',
  'session_limit_reached',
  'invalid_input',
  'internal_error',
]);

export function loginOutcomeLabel(outcome: AuditOutcome, reason: string | null): string {
  if (outcome === 'succeeded') return 'succeeded';
  return reason !== null && LOGIN_FAILURES.has(reason) ? reason : 'other';
}
