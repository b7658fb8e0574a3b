// `@app/sessions/testing`: for a host's unit tests. The library's real handlers over in-memory
// fakes of its ports (SessionsTestingModule), and the fakes themselves, which keep the ports' contracts.
export { SessionsTestingModule, SessionsTesting, type SessionsTestingOptions } from './sessions-testing.module';
export { FixedClock, RecordingEventBus, RecordingSessionCache, InMemorySessionStore, type QueuedMarker, type UserAccess } from './fakes';
export type { Clock } from '../application/ports/clock.port';
