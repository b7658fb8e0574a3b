import { InitialSchema1764000000000 } from './migrations/1764000000000-initial-schema';
import { AuditOutcomesAndTokenRotation1764000000100 } from './migrations/1764000000100-audit-outcomes-and-token-rotation';
import { CacheMarkerOutbox1764000000200 } from './migrations/1764000000200-cache-marker-outbox';
import { CacheNamespaces1764000000300 } from './migrations/1764000000300-cache-namespaces';
import { UserAccessControls1764000000400 } from './migrations/1764000000400-user-access-controls';
import { NormalizeStoredEmails1764000000500 } from './migrations/1764000000500-normalize-stored-emails';
import { OneLiveRefreshTokenAndInstances1764000000600 } from './migrations/1764000000600-one-live-refresh-token-and-instances';
import { SessionsMigration } from './migrations/sessions-migration';
import { ServiceActors1764000000700 } from './migrations/1764000000700-service-actors';
import { AuditRequestIds1764000000800 } from './migrations/1764000000800-audit-request-ids';
import { ConsoleSessions1764000000900 } from './migrations/1764000000900-console-sessions';
import { LoginLockoutsAndUserSearch1764000001000 } from './migrations/1764000001000-login-lockouts-and-user-search';
import { AuditFilterIndexes1764000001100 } from './migrations/1764000001100-audit-filter-indexes';
import { SessionExpiryIndex1764000001200 } from './migrations/1764000001200-session-expiry-index';
import { AuditSeals1764000001300 } from './migrations/1764000001300-audit-seals';
import { PartitionedAuditTrail1764000001400 } from './migrations/1764000001400-partitioned-audit-trail';
import { SessionsFillfactor1764000001500 } from './migrations/1764000001500-sessions-fillfactor';
import { AuditUserEntries1764000001600 } from './migrations/1764000001600-audit-user-entries';
import { RevocationFeed1764000001700 } from './migrations/1764000001700-revocation-feed';

/** Every migration of the library, in the order they run. Forward-only in production; `down` is for tests and operators. */
export const SESSIONS_MIGRATIONS: readonly SessionsMigration[] = [
  InitialSchema1764000000000,
  AuditOutcomesAndTokenRotation1764000000100,
  CacheMarkerOutbox1764000000200,
  CacheNamespaces1764000000300,
  UserAccessControls1764000000400,
  NormalizeStoredEmails1764000000500,
  OneLiveRefreshTokenAndInstances1764000000600,
  ServiceActors1764000000700,
  AuditRequestIds1764000000800,
  ConsoleSessions1764000000900,
  LoginLockoutsAndUserSearch1764000001000,
  AuditFilterIndexes1764000001100,
  SessionExpiryIndex1764000001200,
  AuditSeals1764000001300,
  PartitionedAuditTrail1764000001400,
  SessionsFillfactor1764000001500,
  AuditUserEntries1764000001600,
  RevocationFeed1764000001700,
];

/** The library's tables, as 0.1 created them in `public`. */
export const SESSIONS_TABLES = ['users', 'sessions', 'refresh_tokens', 'audit_entries', 'cache_marker_outbox', 'cache_namespaces', 'instances'] as const;
