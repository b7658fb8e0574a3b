/**
 * Why a session ended. The system's own reasons are codes; an administrator's reason is the
 * free text they typed (3 to 200 characters), kept as given.
 */
export const RevocationReasons = {
  logout: 'logout',
  userRevoked: 'user_revoked',
  userRevokedAll: 'user_revoked_all',
  passwordChanged: 'password_changed',
  refreshTokenReuse: 'refresh_token_reuse',
  /** Too many wrong current passwords on a password change (see CurrentPasswordGuesses). */
  passwordGuessing: 'password_guessing',
  userDisabled: 'user_disabled',
  passwordResetRequired: 'password_reset_required',
  passwordReset: 'password_reset',
  /** Ended by a login of its user past SESSION_MAX_PER_USER under evict_oldest (see SessionLimit). */
  sessionLimitEvicted: 'session_limit_evicted',
} as const;

export type SystemRevocationReason = (typeof RevocationReasons)[keyof typeof RevocationReasons];

export const ADMIN_REASON_MIN_LENGTH = 3;
export const ADMIN_REASON_MAX_LENGTH = 200;
