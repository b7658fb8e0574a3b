// `@app/sessions/testing`: for a host's unit tests. The library's real handlers over in-memory
// fakes of its ports (SessionsTestingModule), and the fakes themselves, which keep the ports' contracts.
export { SessionsTestingModule, SessionsTesting, type SessionsTestingOptions } from './sessions-testing.module';
export { FixedClock } from './fixed-clock';
export { RecordingEventBus } from './recording-event-bus';
export { RecordingSessionCache } from './recording-session-cache';
export { InMemoryDatabase, type QueuedMarker, type UserAccess } from './in-memory-database';
export { inMemoryPorts, InMemoryUnitOfWork, InMemoryUserAccounts, InMemorySessionRecords, InMemoryRevokedSessions, InMemoryCacheMarkerOutbox } from './fakes';
export type { Clock } from '../application/ports/clock.port';
