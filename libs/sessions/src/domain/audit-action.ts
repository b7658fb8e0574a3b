/** The actions recorded in the audit trail, one per command. */
export const AuditActions = {
  register: 'user.register',
  login: 'user.login',
  refresh: 'tokens.refresh',
  logout: 'user.logout',
  revokeSession: 'session.revoke',
  revokeAllSessions: 'sessions.revoke_all',
  changePassword: 'user.password_change',
  bootstrapAdmin: 'admin.bootstrap',
  changeUserRole: 'user.role_change',
  disableUser: 'user.disable',
  enableUser: 'user.enable',
  unlockUser: 'user.unlock',
  requirePasswordReset: 'user.password_reset_require',
  resetPassword: 'user.password_reset',
  reauthenticate: 'session.reauthenticate',
  /** A run of the background purge that deleted expired sessions, their refresh tokens, or stale lockouts. */
  purgeExpiredSessions: 'sessions.purge',
  /** A monthly partition of the audit trail exported and dropped past AUDIT_RETENTION_MONTHS. */
  auditRetention: 'audit.retention',
} as const;

export type AuditAction = (typeof AuditActions)[keyof typeof AuditActions];
export const AUDIT_ACTIONS: readonly AuditAction[] = Object.values(AuditActions);

export type AuditOutcome = 'attempted' | 'succeeded' | 'failed';
export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['attempted', 'succeeded', 'failed'];

/** Reason recorded on a Failed event when the command broke unexpectedly (database down, a bug). */
export const INTERNAL_ERROR_REASON = 'internal_error';
