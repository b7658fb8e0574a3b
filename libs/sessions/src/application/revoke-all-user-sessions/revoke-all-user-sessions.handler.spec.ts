import { Actors } from '../../domain/actor';
import { newRefreshToken } from '../../domain/refresh-token';
import { requestContext } from '../../domain/request-context';
import { DEFAULT_LIFETIMES } from '../../domain/session-rules';
import { ResolvedSessionsOptions } from '../../sessions.options';
import { FixedClock, InMemorySessionStore, RecordingEventBus, RecordingSessionCache } from '../../testing/fakes';
import { AuditTrail } from '../shared/audit-trail';
import { RevokedSessionsCache } from '../shared/revoked-sessions-cache';
import { RevokeAllUserSessions } from './revoke-all-user-sessions.command';
import { RevokeAllUserSessionsHandler } from './revoke-all-user-sessions.handler';

const USER = '0190a5d2-0000-7000-8000-0000000000a1';
const OTHER_USER = '0190a5d2-0000-7000-8000-0000000000b1';
const ADMIN = '0190a5d2-0000-7000-8000-0000000000ad';
const sessionId = (n: number) => `0190a5d2-0000-7000-8000-00000000010${n}`;
const context = requestContext('198.51.100.4', 'console');

function setup() {
  const store = new InMemorySessionStore();
  const events = new RecordingEventBus();
  const cache = new RecordingSessionCache();
  const clock = new FixedClock();
  const handler = new RevokeAllUserSessionsHandler(
    store,
    clock,
    new AuditTrail(events.asEventBus(), clock),
    new RevokedSessionsCache(cache, { lifetimes: DEFAULT_LIFETIMES } as ResolvedSessionsOptions),
  );
  for (let n = 1; n <= 3; n += 1) store.addSession(USER, sessionId(n), newRefreshToken().hash);
  store.addSession(OTHER_USER, sessionId(9), newRefreshToken().hash);
  return { store, events, cache, handler };
}

describe('RevokeAllUserSessionsHandler', () => {
  it("ends every active session of the user but the kept one, with their tokens, and no one else's", async () => {
    const { store, events, cache, handler } = setup();
    const outcome = await handler.execute(new RevokeAllUserSessions(USER, 'Account takeover', Actors.admin(ADMIN), context, sessionId(2)));
    expect(outcome).toEqual({ kind: 'revoked', revokedCount: 2, sessionIds: [sessionId(1), sessionId(3)] });
    const revoked = [...store.sessions.values()].filter((s) => s.revokedAt !== null).map((s) => s.id);
    expect(revoked).toEqual([sessionId(1), sessionId(3)]);
    expect(store.sessions.get(sessionId(1))).toMatchObject({ revokedReason: 'Account takeover', revokedBy: ADMIN });
    expect(store.tokens.filter((t) => t.revokedAt !== null).map((t) => t.sessionId)).toEqual([sessionId(1), sessionId(3)]);
    expect([...cache.entries]).toEqual([
      [`${USER}:${sessionId(1)}`, 'revoked'],
      [`${USER}:${sessionId(3)}`, 'revoked'],
    ]);
    expect(events.outcomes()).toEqual(['AllSessionsRevocationAttempted:Account takeover', 'AllSessionsRevoked:Account takeover']);
    expect(events.events[1]).toMatchObject({ count: 2, actor: { type: 'admin', id: ADMIN }, subjectUserId: USER, ipAddress: '198.51.100.4' });
    expect(store.audit.map((e) => e.outcome)).toEqual(['attempted', 'succeeded']);
  });

  it('succeeds with a count of 0 when nothing is active', async () => {
    const { handler, events } = setup();
    await handler.execute(new RevokeAllUserSessions(USER, 'user_revoked_all', Actors.user(USER), context));
    const again = await handler.execute(new RevokeAllUserSessions(USER, 'user_revoked_all', Actors.user(USER), context));
    expect(again).toEqual({ kind: 'revoked', revokedCount: 0, sessionIds: [] });
    expect(events.events.at(-1)).toMatchObject({ count: 0 });
  });

  it('emits its Failed event and rethrows when the store fails; nothing is revoked', async () => {
    const { store, events, cache, handler } = setup();
    store.failNext = new Error('deadlock detected');
    await expect(handler.execute(new RevokeAllUserSessions(USER, 'user_revoked_all', Actors.user(USER), context))).rejects.toThrow('deadlock detected');
    expect([...store.sessions.values()].every((s) => s.revokedAt === null)).toBe(true);
    expect(cache.entries.size).toBe(0);
    expect(events.outcomes()).toEqual(['AllSessionsRevocationAttempted:user_revoked_all', 'AllSessionsRevocationFailed:internal_error']);
  });

  it('rejects an unknown user as an audited Failed user_not_found, changing nothing', async () => {
    const { store, events, handler } = setup();
    const outcome = await handler.execute(new RevokeAllUserSessions('0190a5d2-0000-7000-8000-0000000000ff', 'Account takeover', Actors.admin(ADMIN), context));
    expect(outcome).toEqual({ kind: 'rejected', reason: 'user_not_found' });
    expect([...store.sessions.values()].every((s) => s.revokedAt === null)).toBe(true);
    expect(events.outcomes()).toEqual(['AllSessionsRevocationAttempted:Account takeover', 'AllSessionsRevocationFailed:user_not_found']);
  });
});
