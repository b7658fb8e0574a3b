import { AuditEntryOrmEntity } from './audit-entry.orm-entity';
import { InitialSchema1764000000000 } from './migrations/1764000000000-initial-schema';
import { AuditOutcomesAndTokenRotation1764000000100 } from './migrations/1764000000100-audit-outcomes-and-token-rotation';
import { CacheMarkerOutbox1764000000200 } from './migrations/1764000000200-cache-marker-outbox';
import { CacheNamespaces1764000000300 } from './migrations/1764000000300-cache-namespaces';
import { NormalizeStoredEmails1764000000500 } from './migrations/1764000000500-normalize-stored-emails';
import { UserAccessControls1764000000400 } from './migrations/1764000000400-user-access-controls';
import { OneLiveRefreshTokenAndInstances1764000000600 } from './migrations/1764000000600-one-live-refresh-token-and-instances';
import { ServiceActors1764000000700 } from './migrations/1764000000700-service-actors';
import { RefreshTokenOrmEntity } from './refresh-token.orm-entity';
import { SessionOrmEntity } from './session.orm-entity';
import { UserOrmEntity } from './user.orm-entity';

/** What the app's TypeORM connection must register for this library. */
export const SESSIONS_ENTITIES = [UserOrmEntity, SessionOrmEntity, RefreshTokenOrmEntity, AuditEntryOrmEntity];
export const SESSIONS_MIGRATIONS = [
  InitialSchema1764000000000,
  AuditOutcomesAndTokenRotation1764000000100,
  CacheMarkerOutbox1764000000200,
  CacheNamespaces1764000000300,
  UserAccessControls1764000000400,
  NormalizeStoredEmails1764000000500,
  OneLiveRefreshTokenAndInstances1764000000600,
  ServiceActors1764000000700,
];
