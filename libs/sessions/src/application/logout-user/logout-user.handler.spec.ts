import { DEFAULT_LIFETIMES } from '../../domain/session-rules';
import { newRefreshToken } from '../../domain/refresh-token';
import { requestContext } from '../../domain/request-context';
import { FixedClock, inMemoryPorts, RecordingEventBus, RecordingSessionCache } from '../../testing/fakes';
import { AuditTrail } from '../audit/audit-trail';
import { SessionRevocations } from '../revocation/session-revocations';
import { LogoutUser } from './logout-user.command';
import { LogoutUserHandler } from './logout-user.handler';

const ALICE = '0190a5d2-0000-7000-8000-00000000000a';
const BOB = '0190a5d2-0000-7000-8000-00000000000b';
const SESSION = '0190a5d2-0000-7000-8000-0000000000c1';
const context = requestContext('203.0.113.9', 'unit-test');
/** FixedClock's instant, which the revocation writes, and its bound: the instant plus the access-token lifetime. */
const AT = new FixedClock().now();
const receipt = (sessionIds: string[]) =>
  sessionIds.length === 0
    ? { revokedCount: 0, sessionIds: [], effectiveAt: AT, accessTokensValidUntil: AT }
    : {
        revokedCount: sessionIds.length,
        sessionIds,
        effectiveAt: AT,
        accessTokensValidUntil: new Date(AT.getTime() + DEFAULT_LIFETIMES.accessTokenTtlSeconds * 1000),
      };

function setup() {
  const { db: store, unitOfWork, sessionRecords } = inMemoryPorts();
  const events = new RecordingEventBus();
  const cache = new RecordingSessionCache();
  const clock = new FixedClock();
  const handler = new LogoutUserHandler(
    unitOfWork,
    sessionRecords,
    new AuditTrail(events.asEventBus(), clock),
    new SessionRevocations(cache, DEFAULT_LIFETIMES, clock),
  );
  const token = newRefreshToken();
  store.addUser(ALICE);
  store.addSession(ALICE, SESSION, token.hash);
  return { store, unitOfWork, events, cache, handler, token: token.token };
}

describe('LogoutUserHandler', () => {
  it('ends the session and all its refresh tokens, marks it revoked in the cache, and records success in the transaction', async () => {
    const { store, events, cache, handler, token } = setup();
    const outcome = await handler.execute(new LogoutUser(token, ALICE, context));
    expect(outcome).toEqual({ kind: 'revoked', userId: ALICE, sessionId: SESSION, ...receipt([SESSION]) });
    expect(store.sessions.get(SESSION)?.revokedAt).toEqual(AT);
    expect(store.tokens.every((t) => t.revokedAt !== null)).toBe(true);
    expect(cache.entries.get(`${ALICE}:${SESSION}`)).toBe('revoked');
    // In the revocation's commit: the feed entry, with the receipt's bound.
    expect(store.committed.feed).toEqual([
      { sessionId: SESSION, userId: ALICE, revokedAt: AT, accessTokensValidUntil: receipt([SESSION]).accessTokensValidUntil },
    ]);
    expect(events.outcomes()).toEqual(['UserLogoutAttempted:logout', 'UserLogoutSucceeded:logout']);
    expect(store.audit.map((e) => e.outcome)).toEqual(['attempted', 'succeeded']);
    expect(new Set(events.events.map((e) => e.correlationId)).size).toBe(1);
    expect(events.events[0]).toMatchObject({ ipAddress: '203.0.113.9', userAgent: 'unit-test' });
  });

  it.each([
    ['an unknown token', () => newRefreshToken().token, ALICE, 'token_not_found'],
    ["another user's token", null, BOB, 'token_user_mismatch'],
  ])('rejects %s and changes nothing', async (_name, makeToken, userId, reason) => {
    const { store, events, handler, token } = setup();
    const outcome = await handler.execute(new LogoutUser(makeToken ? makeToken() : token, userId, context));
    expect(outcome).toEqual({ kind: 'rejected', reason, ...receipt([]) });
    expect(store.sessions.get(SESSION)?.revokedAt).toBeNull();
    expect(events.outcomes()).toEqual(['UserLogoutAttempted:logout', `UserLogoutFailed:${reason}`]);
  });

  it('rejects a second logout with the same token as already revoked', async () => {
    const { events, handler, token } = setup();
    await handler.execute(new LogoutUser(token, null, context));
    const outcome = await handler.execute(new LogoutUser(token, null, context));
    expect(outcome).toEqual({ kind: 'rejected', reason: 'token_already_revoked', ...receipt([]) });
    expect(events.outcomes().at(-1)).toBe('UserLogoutFailed:token_already_revoked');
  });

  it('emits Failed (internal_error) and rethrows when the store fails, leaving nothing changed', async () => {
    const { store, events, cache, handler, token } = setup();
    store.failNext = new Error('connection lost');
    await expect(handler.execute(new LogoutUser(token, ALICE, context))).rejects.toThrow('connection lost');
    expect(store.sessions.get(SESSION)?.revokedAt).toBeNull();
    expect(cache.entries.size).toBe(0);
    expect(events.outcomes()).toEqual(['UserLogoutAttempted:logout', 'UserLogoutFailed:internal_error']);
  });

  it('emits Failed, not Succeeded, when the transaction fails after the success was recorded', async () => {
    const { store, unitOfWork, events, cache, handler, token } = setup();
    const original = unitOfWork.inTransaction.bind(unitOfWork);
    unitOfWork.inTransaction = (work) =>
      original(async (tx) => {
        await work(tx);
        throw Object.assign(new Error('commit failed'), { code: '40001' });
      });
    await expect(handler.execute(new LogoutUser(token, ALICE, context))).rejects.toThrow('commit failed');
    expect(store.audit).toEqual([]);
    expect(store.outbox).toEqual([]);
    // Nor the revocation feed: services that verify offline never hear of a rolled-back revocation.
    expect(store.committed.feed).toEqual([]);
    expect(cache.entries.size).toBe(0);
    expect(events.outcomes()).toEqual(['UserLogoutAttempted:logout', 'UserLogoutFailed:internal_error']);
    expect(events.events[1].details).toMatchObject({ rolledBack: true, errorCode: '40001' });
  });

  it('ends the session of a refresh token rotated away while the session lives', async () => {
    const { store, events, handler, token } = setup();
    const original = store.tokens[0];
    Object.assign(original, { revokedAt: new Date(), rotatedAt: new Date() });
    store.tokens.push({ ...original, id: 't-child', tokenHash: newRefreshToken().hash, parentId: original.id, revokedAt: null, rotatedAt: null });
    const outcome = await handler.execute(new LogoutUser(token, null, context));
    expect(outcome).toEqual({ kind: 'revoked', userId: ALICE, sessionId: SESSION, ...receipt([SESSION]) });
    expect(store.sessions.get(SESSION)?.revokedAt).toEqual(AT);
    expect(store.tokens.every((t) => t.revokedAt !== null)).toBe(true);
    expect(events.outcomes()).toEqual(['UserLogoutAttempted:logout', 'UserLogoutSucceeded:logout']);
  });

  it("ends the Bearer's own session whatever the refresh token is", async () => {
    const { store, events, handler } = setup();
    const outcome = await handler.execute(new LogoutUser(newRefreshToken().token, ALICE, context, SESSION));
    expect(outcome).toEqual({ kind: 'revoked', userId: ALICE, sessionId: SESSION, ...receipt([SESSION]) });
    expect(store.sessions.get(SESSION)?.revokedAt).toEqual(AT);
    expect(events.outcomes()).toEqual(['UserLogoutAttempted:logout', 'UserLogoutSucceeded:logout']);
  });
});
