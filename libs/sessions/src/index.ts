// `@app/sessions`: the library's public face. Everything exported here is a promise to keep
// (docs/library-api.md lists each export, and a test holds the two together). Writes go through
// the commands only, so each leaves its audit entries; internals stay internal.

// The module and its options
export {
  SessionsModule,
  type SessionsModuleExtras,
  type SessionsModuleForRootOptions,
  type SessionsModuleAsyncOptions,
  type SessionsOptionsFactory,
} from './sessions.module';
export { type SessionsModuleOptions, type PasswordHashingOptions, type SessionsMigrationsMode, SESSIONS_DEFAULTS } from './sessions.options';
export {
  type SessionsObserver,
  type AuthCheckOutcome,
  type AuthCheckStoreReason,
  type AuthCheckRefusal,
  type AuditWriteOutcome,
  AUTH_CHECK_STORE_REASONS,
  AUTH_CHECK_REFUSALS,
  NOOP_SESSIONS_OBSERVER,
} from './application/observer/sessions-observer';

// The library's own errors
export { SessionsError, InvalidCommandInput, SessionsConfigurationError, SessionsMigrationRefused } from './domain/sessions-error';

// Commands and their outcomes
export { LogoutUser, type LogoutOutcome, type LogoutRejection } from './application/logout-user/logout-user.command';
export { RevokeAllUserSessions, type RevokeAllOutcome } from './application/revoke-all-user-sessions/revoke-all-user-sessions.command';
export { RevokeSession, type RevokeSessionOutcome } from './application/revoke-session/revoke-session.command';
export { type RevocationReceipt, receiptOf } from './application/revocation/revocation-receipt';
export { RegisterUser, type RegisterOutcome } from './application/register-user/register-user.command';
export {
  LoginUser,
  type LoginOutcome,
  type LoginRejection,
  type LoginPurpose,
  type LoginGrant,
  LOGIN_PURPOSES,
} from './application/login-user/login-user.command';
export { ReauthenticateSession, type ReauthenticateOutcome } from './application/reauthenticate-session/reauthenticate-session.command';
export { RefreshTokens, type RefreshOutcome, type RefreshRejection } from './application/refresh-tokens/refresh-tokens.command';
export { ChangePassword, type ChangePasswordOutcome } from './application/change-password/change-password.command';
export { BootstrapAdmin, type BootstrapAdminOutcome } from './application/bootstrap-admin/bootstrap-admin.command';
export { ChangeUserRole, type ChangeUserRoleOutcome } from './application/change-user-role/change-user-role.command';
export { DisableUser, type DisableUserOutcome } from './application/disable-user/disable-user.command';
export { EnableUser, type EnableUserOutcome } from './application/enable-user/enable-user.command';
export { UnlockUser, type UnlockUserOutcome } from './application/unlock-user/unlock-user.command';
export { RequirePasswordReset, type RequirePasswordResetOutcome } from './application/require-password-reset/require-password-reset.command';
export { ResetPassword, type ResetPasswordOutcome } from './application/reset-password/reset-password.command';
export { type TokenPair, type ConsoleSessionGrant } from './application/tokens/token-pair';

// Events, for other modules' event handlers and sagas: each command publishes Attempted, then Succeeded or Failed
export { AuditableEvent, type SessionEventFields } from './application/audit/auditable-event';
export { UserLogoutAttempted, UserLogoutSucceeded, UserLogoutFailed } from './application/logout-user/logout-user.events';
export {
  AllSessionsRevocationAttempted,
  AllSessionsRevoked,
  AllSessionsRevocationFailed,
} from './application/revoke-all-user-sessions/revoke-all-user-sessions.events';
export { SessionRevocationAttempted, SessionRevoked, SessionRevocationFailed } from './application/revoke-session/revoke-session.events';
export { UserRegistrationAttempted, UserRegistered, UserRegistrationFailed } from './application/register-user/register-user.events';
export { UserLoginAttempted, UserLoginSucceeded, UserLoginFailed } from './application/login-user/login-user.events';
export { TokenRefreshAttempted, TokensRefreshed, TokenRefreshFailed } from './application/refresh-tokens/refresh-tokens.events';
export { PasswordChangeAttempted, PasswordChanged, PasswordChangeFailed } from './application/change-password/change-password.events';
export { AdminBootstrapAttempted, AdminBootstrapped, AdminBootstrapFailed } from './application/bootstrap-admin/bootstrap-admin.events';
export { UserRoleChangeAttempted, UserRoleChanged, UserRoleChangeFailed } from './application/change-user-role/change-user-role.events';
export { UserDisableAttempted, UserDisabled, UserDisableFailed } from './application/disable-user/disable-user.events';
export { UserEnableAttempted, UserEnabled, UserEnableFailed } from './application/enable-user/enable-user.events';
export { UserUnlockAttempted, UserUnlocked, UserUnlockFailed } from './application/unlock-user/unlock-user.events';
export {
  PasswordResetRequirementAttempted,
  PasswordResetRequired,
  PasswordResetRequirementFailed,
} from './application/require-password-reset/require-password-reset.events';
export { PasswordResetAttempted, PasswordReset, PasswordResetFailed } from './application/reset-password/reset-password.events';
export {
  SessionReauthenticationAttempted,
  SessionReauthenticated,
  SessionReauthenticationFailed,
} from './application/reauthenticate-session/reauthenticate-session.events';

// Reads (nothing here writes)
export { SessionAuthenticator, type AuthenticatedSession } from './application/authentication/session-authenticator';
export {
  AUDIT_EXPORT_PAGE_SIZE,
  SessionDirectory,
  type UserSummary,
  type UserDirectoryEntry,
  type UserDirectoryQuery,
  type UserDirectoryPage,
  type DirectoryOverview,
  OVERVIEW_LOCKOUTS_LISTED,
} from './application/queries/session-directory';
export { type UserStatus, USER_STATUSES, type UserPosition } from './application/ports/user-accounts.port';
export { type AuditEntry, type AuditFilter, type AuditPage, type AuditQuery } from './application/ports/audit-log.port';

// HTTP building blocks
export { AccessTokenGuard, OptionalAccessTokenGuard, bearerToken, bearerTokenOf } from './http/access-token.guard';
export { AdminGuard } from './http/admin.guard';
export { CurrentSession, ClientContext, type AuthenticatedRequest } from './http/authenticated-request';
export { type HttpRequestLike } from './http/http-message';
export { canonicalIp, clientIp } from './http/client-ip';

// Override points: the password hasher and the access-token signer (docs/overrides.md)
export { type PasswordHasher } from './application/ports/password-hasher.port';
export { Argon2PasswordHasher } from './infrastructure/security/argon2-password-hasher';
export {
  type AccessTokenAlgorithm,
  type AccessTokenKeysOptions,
  type PreviousAccessTokenKey,
  type AccessTokenJwk,
  type Jwks,
  ACCESS_TOKEN_ALGORITHMS,
} from './application/ports/access-token.port';
export { AccessTokenKeys } from './infrastructure/security/access-token-keys';

// The revocation feed, for services that verify access tokens offline
export {
  type RevocationFeed,
  type RevocationFeedEntry,
  type RevocationFeedPage,
  REVOCATION_FEED,
  FEED_START,
  parseFeedCursor,
} from './application/ports/revocation-feed.port';

// Offline verification, for another service: the JWKS and the revocation feed, no database
export { OfflineAccessTokenModule } from './offline/offline-access-token.module';
export { OfflineAccessTokenGuard, type OfflineAuthenticatedRequest } from './offline/offline-access-token.guard';
export { OfflineRevocationList } from './offline/offline-revocation-list';
export { type OfflineAccessTokenOptions } from './offline/offline-access-token.options';

// Domain vocabulary
export { type Actor, type ActorType, Actors } from './domain/actor';
export { type AuditAction, AuditActions, AUDIT_ACTIONS, type AuditOutcome, AUDIT_OUTCOMES } from './domain/audit-action';
export { INTERRUPTED_REASON } from './application/audit/interrupted-operations';
export { type RequestContext, requestContext, NO_REQUEST_CONTEXT, REQUEST_ID_PATTERN, isRequestId } from './domain/request-context';
export { RevocationReasons, ADMIN_REASON_MIN_LENGTH, ADMIN_REASON_MAX_LENGTH } from './domain/revocation-reason';
export { type SessionLimit, type SessionLimitPolicyName, SESSION_LIMIT_POLICIES } from './domain/session-limit';
export { type SessionLifetimes, normalizeEmail, emailProblem, PASSWORD_RESET_TOKEN_TTL_SECONDS } from './domain/session-rules';
export { type LoginLockoutPolicy } from './application/ports/login-attempts.port';
export { passwordProblem, normalizePassword, type PasswordContext, PASSWORD_MIN_CODE_POINTS } from './domain/password-policy';
export { type SessionRecord, type UserRole, USER_ROLES, type SessionKind, SESSION_KINDS, type ConsoleSessionState } from './domain/records';
export { REFRESH_TOKEN_PATTERN } from './domain/refresh-token';
export { PASSWORD_RESET_TOKEN_PATTERN } from './domain/password-reset-token';

// The library's migrations, for a host that runs them before deploying (docs/database.md)
export {
  runSessionsMigrations,
  sessionsMigrationStatus,
  assertSessionsMigrated,
  revertLastSessionsMigration,
  type SessionsMigrationOptions,
  type SessionsMigrationRun,
  type SessionsMigrationStatus,
} from './infrastructure/typeorm/sessions-migrations';
export { DEFAULT_SESSIONS_SCHEMA } from './infrastructure/typeorm/schema-name';

// The host's cache store: a cache-manager-redis-yet store the library can find the Redis client in
export { keyvOfRedisYetStore } from './infrastructure/cache/redis-yet-keyv-adapter';

// The audit trail's seals (docs/audit.md): the module seals every auditSealIntervalSeconds; these
// are for a host that seals from one place itself, and for checking (npm run audit:verify).
export {
  sealAuditEntries,
  verifyAuditSeals,
  AUDIT_SEAL_SETTLE_SECONDS,
  type SealAuditEntriesOptions,
  type AuditSealRun,
  type VerifyAuditSealsOptions,
  type AuditSealsVerification,
  type AuditSealsVerified,
  type AuditSealsMismatch,
} from './infrastructure/typeorm/typeorm-audit-seals';
export { type SealMismatch, type SealMismatchReason } from './application/audit-seals/seal-check';
// A partition's export before retention drops it, checked without a database (npm run audit:verify -- --export DIR).
export {
  verifyAuditExport,
  AUDIT_EXPORT_FILES,
  type AuditExportFiles,
  type AuditExportManifest,
  type AuditExportVerification,
  type ExportMismatch,
  type ExportFileProblem,
} from './application/audit-seals/audit-export';
