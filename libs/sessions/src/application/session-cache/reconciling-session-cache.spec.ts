import { Logger } from '@nestjs/common';
import { DEFAULT_LIFETIMES } from '../../domain/session-rules';
import { FixedClock, RecordingSessionCache } from '../../testing/fakes';
import { RevokedSessionRef } from '../ports/revoked-sessions.port';
import { ReconcilingSessionCache } from './reconciling-session-cache';

const USER = 'user-1';

/** A cache that can be switched off, keeping its entries (an unreachable, not a wiped, Redis). */
class FlakyCache extends RecordingSessionCache {
  down = false;
  private check() {
    if (this.down) throw new Error('Redis is not connected');
  }
  override async get(userId: string, sessionId: string) {
    this.check();
    return super.get(userId, sessionId);
  }
  override async rememberActive(userId: string, sessionId: string) {
    this.check();
    return super.rememberActive(userId, sessionId);
  }
  override async markRevoked(userId: string, sessionIds: readonly string[]) {
    this.check();
    return super.markRevoked(userId, sessionIds);
  }
  override async ping() {
    this.check();
  }
  override async probe() {
    this.check();
    return super.probe();
  }
}

function setup() {
  const inner = new FlakyCache();
  const revoked: Array<RevokedSessionRef & { at: Date }> = [];
  const outbox = {
    drain: async () => 0,
    registerNamespace: async (): Promise<'live' | 'registered'> => 'live',
  };
  const revokedSessions = { listSince: async (since: Date) => revoked.filter((r) => r.at >= since) };
  const clock = new FixedClock();
  const cache = new ReconcilingSessionCache(inner, outbox, revokedSessions, clock, { lifetimes: DEFAULT_LIFETIMES });
  return { inner, revoked, clock, cache, outbox };
}

describe('ReconcilingSessionCache', () => {
  it('does not trust a cache that failed until the revocations made meanwhile are marked again', async () => {
    const { inner, revoked, clock, cache } = setup();
    await cache.rememberActive(USER, 's1', 60);
    expect(await cache.get(USER, 's1')).toBe('active');

    inner.down = true;
    revoked.push({ userId: USER, sessionId: 's1', at: clock.now() });
    await expect(cache.markRevoked(USER, ['s1'], 960)).rejects.toThrow();
    expect(cache.distrusted).toBe(true);

    inner.down = false; // back, still holding the stale "active" entry
    expect(inner.entries.get(`${USER}:s1`)).toBe('active');
    expect(await cache.get(USER, 's1')).toBeNull(); // not trusted yet: the caller asks PostgreSQL
    await cache.rememberActive(USER, 's2', 60);
    expect(inner.entries.has(`${USER}:s2`)).toBe(false);

    await cache.heartbeat();
    expect(cache.distrusted).toBe(false);
    expect(await cache.get(USER, 's1')).toBe('revoked');
  });

  it('notices an outage through its heartbeat even when no request failed', async () => {
    const { inner, cache } = setup();
    inner.down = true;
    await cache.heartbeat();
    expect(cache.distrusted).toBe(true);
    await cache.heartbeat();
    expect(cache.distrusted).toBe(true);
    inner.down = false;
    await cache.heartbeat();
    expect(cache.distrusted).toBe(false);
  });

  it('stays distrusted if the repair pass itself fails', async () => {
    const { inner, revoked, clock, cache } = setup();
    inner.down = true;
    await cache.heartbeat();
    revoked.push({ userId: USER, sessionId: 's1', at: clock.now() });
    inner.down = false;
    const markRevoked = inner.markRevoked.bind(inner);
    inner.markRevoked = async () => {
      throw new Error('timeout');
    };
    await cache.heartbeat();
    expect(cache.distrusted).toBe(true);
    inner.markRevoked = markRevoked;
    await cache.heartbeat();
    expect(cache.distrusted).toBe(false);
    expect(inner.entries.get(`${USER}:s1`)).toBe('revoked');
  });

  it('starts distrusted and re-marks recent revocations before trusting the cache (a predecessor may have died mid-outage)', async () => {
    const { inner, revoked, clock, cache } = setup();
    inner.entries.set(`${USER}:s9`, 'active'); // left behind by a process that died during an outage
    revoked.push({ userId: USER, sessionId: 's9', at: new Date(clock.now().getTime() - 30_000) });
    await cache.start();
    await cache.stop();
    expect(cache.distrusted).toBe(false);
    expect(await cache.get(USER, 's9')).toBe('revoked');
  });

  describe('the session_cache_reconciled line', () => {
    const lines = (spy: jest.SpyInstance) =>
      spy.mock.calls.filter(([line]) => (line as { msg?: unknown })?.msg === 'session_cache_reconciled').map(([line]) => line);
    let info: jest.SpyInstance;
    let warn: jest.SpyInstance;
    beforeEach(() => {
      info = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
      warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    });
    afterEach(() => jest.restoreAllMocks());

    it('is info after a clean start, even when recent revocations were re-marked', async () => {
      const { revoked, clock, cache } = setup();
      revoked.push({ userId: USER, sessionId: 's9', at: new Date(clock.now().getTime() - 30_000) });
      await cache.start();
      await cache.stop();
      expect(lines(warn)).toEqual([]);
      expect(lines(info)).toEqual([expect.objectContaining({ cause: 'startup', remarkedSessions: 1 })]);
    });

    it('is a warning after the cache failed, at start-up too', async () => {
      const { inner, cache } = setup();
      inner.down = true;
      await cache.start();
      expect(lines(warn)).toEqual([]);
      inner.down = false;
      await cache.heartbeat();
      await cache.stop();
      expect(lines(info)).toEqual([]);
      expect(lines(warn)).toEqual([expect.objectContaining({ cause: 'failure' })]);

      // Trusted again: the next repair is judged on its own.
      inner.down = true;
      await cache.heartbeat();
      inner.down = false;
      await cache.heartbeat();
      expect(lines(warn)).toHaveLength(2);
    });
  });

  it('distrusts the cache the moment its connection drops, before any call has failed', async () => {
    const { inner, revoked, clock, cache } = setup();
    await cache.heartbeat();
    await cache.rememberActive(USER, 's1', 60);
    inner.loseConnection('Redis connection lost, reconnecting');
    // Redis is back within milliseconds, from a snapshot that still says "active"; no call ever failed.
    revoked.push({ userId: USER, sessionId: 's1', at: clock.now() });
    expect(cache.distrusted).toBe(true);
    expect(await cache.get(USER, 's1')).toBeNull();
    await cache.heartbeat();
    expect(cache.distrusted).toBe(false);
    expect(await cache.get(USER, 's1')).toBe('revoked');
  });

  it('distrusts a cache whose server changed between two heartbeats, and re-marks before trusting it again', async () => {
    const { inner, revoked, clock, cache } = setup();
    await cache.heartbeat();
    await cache.rememberActive(USER, 's1', 60);
    revoked.push({ userId: USER, sessionId: 's1', at: clock.now() }); // its marker was lost with the old server
    clock.current = new Date(clock.current.getTime() + 50_000);
    inner.serverId = 'promoted-replica';
    await cache.heartbeat();
    expect(cache.distrusted).toBe(false);
    expect(await cache.get(USER, 's1')).toBe('revoked');
  });

  it('distrusts a cache whose epoch went back (an older snapshot) even when the server does not say who it is', async () => {
    const { inner, revoked, clock, cache } = setup();
    inner.serverId = null;
    await cache.heartbeat();
    await cache.heartbeat();
    await cache.rememberActive(USER, 's1', 60);
    revoked.push({ userId: USER, sessionId: 's1', at: clock.now() });
    inner.epoch = 1; // restored from a snapshot taken after the first heartbeat
    const remark = jest.spyOn(inner, 'markRevoked');
    await cache.heartbeat();
    expect(remark).toHaveBeenCalledWith(USER, ['s1'], expect.any(Number));
    expect(cache.distrusted).toBe(false);
    expect(await cache.get(USER, 's1')).toBe('revoked');
  });

  it('keeps trusting a cache whose server and growing epoch stay the same', async () => {
    const { inner, cache } = setup();
    await cache.heartbeat();
    const remark = jest.spyOn(inner, 'markRevoked');
    await cache.rememberActive(USER, 's1', 60);
    await cache.heartbeat();
    await cache.heartbeat();
    expect(cache.distrusted).toBe(false);
    expect(remark).not.toHaveBeenCalled();
    expect(await cache.get(USER, 's1')).toBe('active');
  });

  it('does not trust the cache before its namespace is registered (others would not queue markers for it)', async () => {
    const { outbox, cache } = setup();
    outbox.registerNamespace = async () => {
      throw new Error('database unreachable');
    };
    await cache.start();
    await cache.stop();
    expect(cache.distrusted).toBe(true);
    outbox.registerNamespace = async () => 'registered';
    await cache.heartbeat();
    expect(cache.distrusted).toBe(false);
  });

  it('distrusts the cache when its namespace lapsed or could not be kept live for half the window', async () => {
    const { outbox, clock, cache } = setup();
    await cache.heartbeat();
    expect(cache.distrusted).toBe(false);
    outbox.registerNamespace = async () => {
      throw new Error('database unreachable');
    };
    clock.current = new Date(clock.current.getTime() + 10_000);
    await cache.heartbeat();
    expect(cache.distrusted).toBe(false); // one failed touch is not yet a lapse
    clock.current = new Date(clock.current.getTime() + 60_000);
    await cache.heartbeat();
    expect(cache.distrusted).toBe(true);

    outbox.registerNamespace = async () => 'live';
    await cache.heartbeat();
    expect(cache.distrusted).toBe(false);
    outbox.registerNamespace = async () => 'registered'; // someone dropped it: revocations skipped it
    clock.current = new Date(clock.current.getTime() + 10_000);
    await cache.heartbeat();
    expect(cache.distrusted).toBe(true);
  });
});
