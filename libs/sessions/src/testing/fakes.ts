/** Fakes of the ports for unit tests; anything touching SQL or Redis is tested against the real servers. */
import { InMemoryCacheMarkerOutbox } from './in-memory-cache-marker-outbox';
import { InMemoryDatabase } from './in-memory-database';
import { InMemoryLoginLockouts } from './in-memory-login-lockouts';
import { InMemoryRevokedSessions } from './in-memory-revoked-sessions';
import { InMemorySessionRecords } from './in-memory-session-records';
import { InMemoryUnitOfWork } from './in-memory-unit-of-work';
import { InMemoryUserAccounts } from './in-memory-user-accounts';

export { FixedClock } from './fixed-clock';
export { RecordingEventBus } from './recording-event-bus';
export { RecordingSessionCache } from './recording-session-cache';
export { InMemoryDatabase, type QueuedMarker, type TokenRow, type UserAccess, type LockoutRow } from './in-memory-database';
export { InMemoryUnitOfWork, InMemoryUserAccounts, InMemorySessionRecords, InMemoryCacheMarkerOutbox, InMemoryRevokedSessions, InMemoryLoginLockouts };
export { InMemoryAuditLog } from './in-memory-audit-log';
export { InProcessCommandBus } from './in-process-command-bus';

/** Every persistence port over one in-memory database, as a unit test wires them. */
export function inMemoryPorts(db = new InMemoryDatabase()) {
  return {
    db,
    unitOfWork: new InMemoryUnitOfWork(db),
    userAccounts: new InMemoryUserAccounts(db),
    sessionRecords: new InMemorySessionRecords(db),
    revokedSessions: new InMemoryRevokedSessions(db),
    cacheMarkerOutbox: new InMemoryCacheMarkerOutbox(db),
    loginLockouts: new InMemoryLoginLockouts(db),
  };
}
