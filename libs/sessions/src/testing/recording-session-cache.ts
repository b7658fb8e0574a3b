import { CacheProbe, CachedSessionState, SessionCache } from '../application/ports/session-cache.port';

/** The session cache in a Map, keyed `<userId>:<sessionId>`. */
export class RecordingSessionCache implements SessionCache {
  readonly entries = new Map<string, CachedSessionState>();
  readonly description = 'fake';
  constructor(readonly namespace = 'fake') {}
  async get(userId: string, sessionId: string) {
    return this.entries.get(`${userId}:${sessionId}`) ?? null;
  }
  async rememberActive(userId: string, sessionId: string) {
    if (!this.entries.has(`${userId}:${sessionId}`)) this.entries.set(`${userId}:${sessionId}`, 'active');
  }
  async markRevoked(userId: string, sessionIds: readonly string[]) {
    for (const id of sessionIds) this.entries.set(`${userId}:${id}`, 'revoked');
  }
  async ping() {}
  /** What probe() reports; tests change it to play a replaced dataset. */
  serverId: string | null = 'fake-server';
  epoch = 0;
  async probe(): Promise<CacheProbe> {
    this.epoch += 1;
    return { serverId: this.serverId, epoch: this.epoch };
  }
  private readonly connectionListeners: Array<(reason: string) => void> = [];
  onConnectionLost(listener: (reason: string) => void) {
    this.connectionListeners.push(listener);
  }
  /** Plays the client's 'error' / 'reconnecting' event. */
  loseConnection(reason = 'connection lost') {
    for (const listener of this.connectionListeners) listener(reason);
  }
}
