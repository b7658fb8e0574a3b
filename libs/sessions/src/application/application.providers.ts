import { Provider } from '@nestjs/common';
import { ResolvedSessionsOptions, SESSIONS_OPTIONS } from '../sessions.options';
import { InterruptedOperations } from './audit/interrupted-operations';
import { AuditRecorder } from './audit/audit-recorder';
import { AuditSaga, RecordAuditEntryHandler } from './audit/audit.saga';
import { SessionAuthenticator } from './authentication/session-authenticator';
import { BootstrapAdminHandler } from './bootstrap-admin/bootstrap-admin.handler';
import { ChangePasswordHandler } from './change-password/change-password.handler';
import { CurrentPasswordGuesses } from './change-password/current-password-guesses';
import { ChangeUserRoleHandler } from './change-user-role/change-user-role.handler';
import { DisableUserHandler } from './disable-user/disable-user.handler';
import { EnableUserHandler } from './enable-user/enable-user.handler';
import { LoginGatekeeper } from './login-user/login-gatekeeper';
import { LoginUserHandler } from './login-user/login-user.handler';
import { LogoutUserHandler } from './logout-user/logout-user.handler';
import { SessionDirectory } from './queries/session-directory';
import { ReauthenticateSessionHandler } from './reauthenticate-session/reauthenticate-session.handler';
import { RefreshTokensHandler } from './refresh-tokens/refresh-tokens.handler';
import { RegisterUserHandler } from './register-user/register-user.handler';
import { RequirePasswordResetHandler } from './require-password-reset/require-password-reset.handler';
import { ResetPasswordHandler } from './reset-password/reset-password.handler';
import { RevokeAllUserSessionsHandler } from './revoke-all-user-sessions/revoke-all-user-sessions.handler';
import { RevokeSessionHandler } from './revoke-session/revoke-session.handler';
import { UnlockUserHandler } from './unlock-user/unlock-user.handler';
import { SessionRevocations } from './revocation/session-revocations';
import { SessionLimits } from './session-limit/session-limits';
import { AuditTrail } from './audit/audit-trail';
import {
  AUDIT_RETENTION_POLICY,
  AuditRetentionPolicy,
  INTERRUPTED_OPERATIONS_POLICY,
  InterruptedOperationsPolicy,
  REFRESH_POLICY,
  RefreshPolicy,
  SESSION_LIFETIMES,
  SESSION_LIMIT,
  SESSION_PURGE_POLICY,
  SessionPurgePolicy,
} from './settings';
import { ExpiredSessionsPurge } from './purge-expired-sessions/expired-sessions-purge';
import { SessionPurgeSchedule } from './purge-expired-sessions/session-purge-schedule';
import { SessionIssuer } from './tokens/session-issuer';
import { AuditRetention } from './audit-retention/audit-retention';
import { AuditMaintenanceSchedule } from './audit-retention/audit-maintenance-schedule';

export const COMMAND_HANDLERS = [
  LogoutUserHandler,
  RevokeAllUserSessionsHandler,
  RevokeSessionHandler,
  RegisterUserHandler,
  LoginUserHandler,
  RefreshTokensHandler,
  ChangePasswordHandler,
  BootstrapAdminHandler,
  ChangeUserRoleHandler,
  DisableUserHandler,
  EnableUserHandler,
  UnlockUserHandler,
  RequirePasswordResetHandler,
  ResetPasswordHandler,
  ReauthenticateSessionHandler,
  RecordAuditEntryHandler,
];

/** The narrow settings of the application layer, each read once from the resolved module options (defaults applied there). */
export const SETTINGS_PROVIDERS: Provider[] = [
  { provide: SESSION_LIFETIMES, inject: [SESSIONS_OPTIONS], useFactory: (o: ResolvedSessionsOptions) => o.lifetimes },
  { provide: SESSION_LIMIT, inject: [SESSIONS_OPTIONS], useFactory: (o: ResolvedSessionsOptions) => o.sessionLimit },
  {
    provide: REFRESH_POLICY,
    inject: [SESSIONS_OPTIONS],
    useFactory: (o: ResolvedSessionsOptions): RefreshPolicy => ({ reuseGraceSeconds: o.refreshReuseGraceSeconds }),
  },
  {
    provide: INTERRUPTED_OPERATIONS_POLICY,
    inject: [SESSIONS_OPTIONS],
    useFactory: (o: ResolvedSessionsOptions): InterruptedOperationsPolicy => ({ afterSeconds: o.interruptedAfterSeconds }),
  },
  { provide: SESSION_PURGE_POLICY, inject: [SESSIONS_OPTIONS], useFactory: (o: ResolvedSessionsOptions): SessionPurgePolicy => o.sessionPurge },
  { provide: AUDIT_RETENTION_POLICY, inject: [SESSIONS_OPTIONS], useFactory: (o: ResolvedSessionsOptions): AuditRetentionPolicy => o.auditRetention },
];

/**
 * The store's upkeep in the background: the purge of expired sessions, the audit trail's partitions
 * and their retention. Only SessionsModule runs it, over PostgreSQL; SessionsTestingModule's
 * in-memory store has nothing that outlives a test.
 */
export const MAINTENANCE_PROVIDERS: Provider[] = [ExpiredSessionsPurge, SessionPurgeSchedule, AuditRetention, AuditMaintenanceSchedule];

/** The use cases and the services they call; the ports they need come from the infrastructure providers. */
export const APPLICATION_PROVIDERS: Provider[] = [
  ...SETTINGS_PROVIDERS,
  InterruptedOperations,
  AuditTrail,
  AuditRecorder,
  AuditSaga,
  SessionRevocations,
  SessionLimits,
  SessionIssuer,
  LoginGatekeeper,
  CurrentPasswordGuesses,
  SessionAuthenticator,
  SessionDirectory,
  ...COMMAND_HANDLERS,
];
