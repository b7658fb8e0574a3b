import { Actors } from '../../domain/actor';
import { newRefreshToken } from '../../domain/refresh-token';
import { requestContext } from '../../domain/request-context';
import { DEFAULT_LIFETIMES } from '../../domain/session-rules';
import { FixedClock, inMemoryPorts, RecordingEventBus, RecordingSessionCache } from '../../testing/fakes';
import { AuditTrail } from '../audit/audit-trail';
import { SessionRevocations } from '../revocation/session-revocations';
import { RevokeAllUserSessions } from './revoke-all-user-sessions.command';
import { RevokeAllUserSessionsHandler } from './revoke-all-user-sessions.handler';

const USER = '0190a5d2-0000-7000-8000-0000000000a1';
const OTHER_USER = '0190a5d2-0000-7000-8000-0000000000b1';
const ADMIN = '0190a5d2-0000-7000-8000-0000000000ad';
const sessionId = (n: number) => `0190a5d2-0000-7000-8000-00000000010${n}`;
const context = requestContext('198.51.100.4', 'console');
const AT = new FixedClock().now();
const TTL_MS = DEFAULT_LIFETIMES.accessTokenTtlSeconds * 1000;

function setup() {
  const { db: store, unitOfWork } = inMemoryPorts();
  const events = new RecordingEventBus();
  const cache = new RecordingSessionCache();
  const clock = new FixedClock();
  const handler = new RevokeAllUserSessionsHandler(
    unitOfWork,
    new AuditTrail(events.asEventBus(), clock),
    new SessionRevocations(cache, DEFAULT_LIFETIMES, clock),
  );
  for (let n = 1; n <= 3; n += 1) store.addSession(USER, sessionId(n), newRefreshToken().hash);
  store.addSession(OTHER_USER, sessionId(9), newRefreshToken().hash);
  return { store, unitOfWork, clock, events, cache, handler };
}

describe('RevokeAllUserSessionsHandler', () => {
  it("ends every active session of the user but the kept one, with their tokens, and no one else's", async () => {
    const { store, events, cache, handler } = setup();
    const outcome = await handler.execute(new RevokeAllUserSessions(USER, 'Account takeover', Actors.admin(ADMIN), context, sessionId(2)));
    expect(outcome).toEqual({
      kind: 'revoked',
      revokedCount: 2,
      sessionIds: [sessionId(1), sessionId(3)],
      effectiveAt: AT,
      accessTokensValidUntil: new Date(AT.getTime() + TTL_MS),
    });
    expect(store.sessions.get(sessionId(1))?.revokedAt).toEqual(AT);
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
    // Nothing to wait for: valid until the revocation itself.
    expect(again).toEqual({ kind: 'revoked', revokedCount: 0, sessionIds: [], effectiveAt: AT, accessTokensValidUntil: AT });
    expect(events.events.at(-1)).toMatchObject({ count: 0 });
  });

  it('bounds the access tokens from when the revoking statement returned, not from the instant it wrote', async () => {
    const { store, unitOfWork, clock, handler } = setup();
    // The statement waits 5 s for a session row that a refresh holds; the refresh signs its access
    // token meanwhile, after `at`, so `at` plus the lifetime would be too early for it.
    const original = unitOfWork.inTransaction.bind(unitOfWork);
    unitOfWork.inTransaction = (work) =>
      original((tx) => {
        const revokeAll = tx.sessions.revokeAll.bind(tx.sessions);
        tx.sessions.revokeAll = async (...args) => {
          const ids = await revokeAll(...args);
          clock.current = new Date(clock.current.getTime() + 5_000);
          return ids;
        };
        return work(tx);
      });
    const outcome = await handler.execute(new RevokeAllUserSessions(USER, 'user_revoked_all', Actors.user(USER), context));
    expect(outcome).toMatchObject({ effectiveAt: AT, accessTokensValidUntil: new Date(AT.getTime() + 5_000 + TTL_MS) });
    expect(store.sessions.get(sessionId(1))?.revokedAt).toEqual(AT);
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

  it('writes its own markers to the cache only after the commit, and answers only once they are written', async () => {
    const { store, cache, handler } = setup();
    const seenAtWrite: Array<{ revocationCommitted: boolean; succeededCommitted: boolean }> = [];
    let release!: () => void;
    const redisAnswers = new Promise<void>((resolve) => (release = resolve));
    const markRevoked = cache.markRevoked.bind(cache);
    cache.markRevoked = async (userId, sessionIds) => {
      seenAtWrite.push({
        revocationCommitted: sessionIds.every((id) => store.sessions.get(id)?.revokedAt !== null),
        succeededCommitted: store.audit.some((e) => e.outcome === 'succeeded'),
      });
      await redisAnswers;
      return markRevoked(userId, sessionIds);
    };
    let answered = false;
    const running = handler.execute(new RevokeAllUserSessions(USER, 'user_revoked_all', Actors.user(USER), context)).then((outcome) => {
      answered = true;
      return outcome;
    });
    while (seenAtWrite.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(seenAtWrite).toEqual([{ revocationCommitted: true, succeededCommitted: true }]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    release();
    await expect(running).resolves.toMatchObject({ kind: 'revoked', revokedCount: 3 });
    expect([...cache.entries.values()]).toEqual(['revoked', 'revoked', 'revoked']);
  });

  it('queues the markers for every live cache namespace, its own included, with the revocation', async () => {
    const { store, cache, handler } = setup();
    store.namespaces.set('other-deployment', store.now());
    store.namespaces.set('gone-deployment', store.now() - 3_600_000);
    await handler.execute(new RevokeAllUserSessions(USER, 'user_revoked_all', Actors.user(USER), context, sessionId(2)));
    const queued = (namespace: string) => store.outbox.filter((m) => m.namespace === namespace).map((m) => m.sessionId);
    expect(queued(cache.namespace)).toEqual([sessionId(1), sessionId(3)]);
    expect(queued('other-deployment')).toEqual([sessionId(1), sessionId(3)]);
    expect(queued('gone-deployment')).toEqual([]);
  });

  it('answers when its own cache write fails, leaving the queued markers to the drain', async () => {
    const { store, events, cache, handler } = setup();
    cache.markRevoked = async () => {
      throw new Error('Redis did not answer within 250 ms');
    };
    const outcome = await handler.execute(new RevokeAllUserSessions(USER, 'user_revoked_all', Actors.user(USER), context));
    expect(outcome).toMatchObject({ kind: 'revoked', revokedCount: 3 });
    expect(store.outbox.filter((m) => m.namespace === cache.namespace)).toHaveLength(3);
    expect(events.outcomes()).toEqual(['AllSessionsRevocationAttempted:user_revoked_all', 'AllSessionsRevoked:user_revoked_all']);
  });

  it('refuses an id that is not a UUID as invalid input, before touching the store: Attempted (id recorded as null) and one Failed', async () => {
    const { store, events, cache, handler } = setup();
    const before = JSON.stringify([...store.sessions.values()]);
    await expect(handler.execute(new RevokeAllUserSessions('not-a-uuid', 'Account takeover', Actors.admin(ADMIN), context))).rejects.toMatchObject({
      name: 'InvalidCommandInput',
      code: 'invalid_input',
      field: 'userId',
    });
    expect(events.outcomes()).toEqual(['AllSessionsRevocationAttempted:Account takeover', 'AllSessionsRevocationFailed:invalid_input']);
    expect(events.events[0]).toMatchObject({ subjectUserId: null, actor: { type: 'admin', id: ADMIN } });
    expect(events.events[1]).toMatchObject({ subjectUserId: null, details: { field: 'userId', problem: 'must be a UUID' } });
    expect(JSON.stringify([...store.sessions.values()])).toBe(before);
    expect(store.commits).toBe(0);
    expect(cache.entries.size).toBe(0);
  });
});
