import { Provider } from '@nestjs/common';
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
import { RefreshTokensHandler } from './refresh-tokens/refresh-tokens.handler';
import { RegisterUserHandler } from './register-user/register-user.handler';
import { RequirePasswordResetHandler } from './require-password-reset/require-password-reset.handler';
import { ResetPasswordHandler } from './reset-password/reset-password.handler';
import { RevokeAllUserSessionsHandler } from './revoke-all-user-sessions/revoke-all-user-sessions.handler';
import { RevokeSessionHandler } from './revoke-session/revoke-session.handler';
import { AuditTrail } from './shared/audit-trail';
import { RevokedSessionsCache } from './shared/revoked-sessions-cache';
import { SessionIssuer } from './shared/session-issuer';

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
  RequirePasswordResetHandler,
  ResetPasswordHandler,
  RecordAuditEntryHandler,
];

/** The use cases and the services they call; the ports they need come from the infrastructure providers. */
export const APPLICATION_PROVIDERS: Provider[] = [
  InterruptedOperations,
  AuditTrail,
  AuditRecorder,
  AuditSaga,
  RevokedSessionsCache,
  SessionIssuer,
  LoginGatekeeper,
  CurrentPasswordGuesses,
  SessionAuthenticator,
  SessionDirectory,
  ...COMMAND_HANDLERS,
];
