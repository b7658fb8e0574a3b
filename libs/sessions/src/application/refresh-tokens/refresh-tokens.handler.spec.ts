import { hashRefreshToken, newRefreshToken } from '../../domain/refresh-token';
import { requestContext } from '../../domain/request-context';
import { DEFAULT_LIFETIMES } from '../../domain/session-rules';
import { FixedClock, inMemoryPorts, InProcessCommandBus, RecordingEventBus, RecordingSessionCache } from '../../testing/fakes';
import { AuditTrail } from '../audit/audit-trail';
import { AccessTokens } from '../ports/access-token.port';
import { SessionRevocations } from '../revocation/session-revocations';
import { RevokeSession } from '../revoke-session/revoke-session.command';
import { RevokeSessionHandler } from '../revoke-session/revoke-session.handler';
import { SessionIssuer } from '../tokens/session-issuer';
import { RefreshTokens } from './refresh-tokens.command';
import { RefreshTokensHandler } from './refresh-tokens.handler';

const ALICE = '0190a5d2-0000-7000-8000-00000000000a';
const SESSION = '0190a5d2-0000-7000-8000-0000000000c1';
const GRACE_SECONDS = 5;
const laptop = requestContext('203.0.113.9', 'laptop');
const thief = requestContext('198.51.100.66', 'curl');

const accessTokens: AccessTokens = {
  issue: async ({ sessionId }) => ({ token: `access-for-${sessionId}`, expiresIn: 900 }),
  verify: async () => null,
  check: async () => ({ kind: 'refused', reason: 'token_invalid' }),
};

function setup() {
  const { db, unitOfWork, sessionRecords } = inMemoryPorts();
  const events = new RecordingEventBus();
  const cache = new RecordingSessionCache();
  const clock = new FixedClock();
  const trail = new AuditTrail(events.asEventBus(), clock);
  const bus = new InProcessCommandBus();
  bus.register(RevokeSession, new RevokeSessionHandler(unitOfWork, sessionRecords, trail, new SessionRevocations(cache, DEFAULT_LIFETIMES, clock)));
  const handler = new RefreshTokensHandler(
    unitOfWork,
    sessionRecords,
    clock,
    { reuseGraceSeconds: GRACE_SECONDS },
    trail,
    new SessionIssuer(DEFAULT_LIFETIMES, accessTokens),
    bus.asCommandBus(),
  );
  const first = newRefreshToken();
  db.addSession(ALICE, SESSION, first.hash);
  const refresh = (token: string, context = laptop) => handler.execute(new RefreshTokens(token, context));
  /** Rotates the first token from the laptop; the pair it got. */
  const rotate = async () => {
    const outcome = await refresh(first.token);
    if (outcome.kind !== 'refreshed') throw new Error(`refresh failed: ${outcome.reason}`);
    return outcome;
  };
  const live = () => db.tokens.filter((t) => t.sessionId === SESSION && t.revokedAt === null);
  return { db, events, cache, clock, bus, first, refresh, rotate, live };
}

describe('RefreshTokensHandler', () => {
  it('trades a live refresh token for a new pair in the same session, retiring the old one as rotated by this client', async () => {
    const { db, events, first, rotate, live } = setup();
    const pair = await rotate();
    expect(pair).toMatchObject({
      kind: 'refreshed',
      userId: ALICE,
      sessionId: SESSION,
      accessToken: `access-for-${SESSION}`,
      tokenType: 'Bearer',
      expiresIn: 900,
    });
    expect(pair.refreshToken).not.toBe(first.token);
    const old = db.tokens.find((t) => t.tokenHash.equals(first.hash))!;
    expect(old).toMatchObject({ rotatedIpAddress: laptop.ipAddress, rotatedUserAgent: laptop.userAgent });
    expect(old.revokedAt).not.toBeNull();
    expect(old.rotatedAt).toEqual(old.revokedAt);
    // One live token per session: the new one, a child of the one it replaced.
    expect(live()).toHaveLength(1);
    expect(live()[0]).toMatchObject({ parentId: old.id, userId: ALICE });
    expect(events.outcomes()).toEqual(['TokenRefreshAttempted:', 'TokensRefreshed:']);
    expect(events.events[0]).toMatchObject({ actor: { type: 'user', id: null }, subjectUserId: null });
    expect(events.events[1]).toMatchObject({ actor: { type: 'user', id: ALICE }, subjectUserId: ALICE, sessionId: SESSION });
    expect(db.audit.map((e) => e.outcome)).toEqual(['attempted', 'succeeded']);
  });

  it('lets the same client retry the token it just rotated (several tabs), within the grace, without a second live chain', async () => {
    const { db, events, clock, first, refresh, rotate, live } = setup();
    const firstPair = await rotate();
    clock.current = new Date(clock.current.getTime() + (GRACE_SECONDS - 1) * 1000);
    const retried = await refresh(first.token);
    expect(retried).toMatchObject({ kind: 'refreshed', sessionId: SESSION });
    // The pair handed to the first request is retired (as rotated away, so presenting it later is reuse).
    expect(live()).toHaveLength(1);
    expect(db.tokens.find((t) => t.tokenHash.equals(hashRefreshToken(firstPair.refreshToken)))?.rotatedAt).not.toBeNull();
    expect(db.sessions.get(SESSION)?.revokedAt).toBeNull();
    expect(events.outcomes()).toEqual(['TokenRefreshAttempted:', 'TokensRefreshed:', 'TokenRefreshAttempted:', 'TokensRefreshed:']);
    expect(events.events[3].details).toMatchObject({ graceRetry: true });
  });

  it.each([
    ['from another client', () => thief, 1],
    ['from the same client after the grace', () => laptop, GRACE_SECONDS + 1],
  ])('takes a rotated token presented again %s for reuse: the session ends through RevokeSession, audited', async (_name, from, afterSeconds) => {
    const { db, events, cache, clock, bus, first, refresh, rotate, live } = setup();
    const pair = await rotate();
    clock.current = new Date(clock.current.getTime() + afterSeconds * 1000);
    const outcome = await refresh(first.token, from());
    const at = clock.now();
    expect(outcome).toEqual({
      kind: 'rejected',
      reason: 'refresh_token_reuse',
      revocation: {
        revokedCount: 1,
        sessionIds: [SESSION],
        effectiveAt: at,
        accessTokensValidUntil: new Date(at.getTime() + DEFAULT_LIFETIMES.accessTokenTtlSeconds * 1000),
      },
    });
    expect(db.sessions.get(SESSION)).toMatchObject({ revokedReason: 'refresh_token_reuse', revokedBy: null, revokedAt: at });
    expect(live()).toEqual([]);
    expect(cache.entries.get(`${ALICE}:${SESSION}`)).toBe('revoked');
    expect(bus.dispatched).toEqual([
      expect.objectContaining({ userId: ALICE, sessionId: SESSION, reason: 'refresh_token_reuse', actor: { type: 'system', id: null } }),
    ]);
    expect(events.outcomes().slice(2)).toEqual([
      'TokenRefreshAttempted:',
      'SessionRevocationAttempted:refresh_token_reuse',
      'SessionRevoked:refresh_token_reuse',
      'TokenRefreshFailed:refresh_token_reuse',
    ]);
    // Both origins of the token are on record.
    expect(events.events.at(-1)?.details).toMatchObject({
      original: { ipAddress: laptop.ipAddress, userAgent: laptop.userAgent },
      reuse: { ipAddress: from().ipAddress },
    });
    // The replacement died with its session.
    await expect(refresh(pair.refreshToken)).resolves.toEqual({ kind: 'rejected', reason: 'session_inactive' });
  });

  it('names why a token that cannot be used was refused, and changes nothing', async () => {
    const { db, events, clock, first, refresh } = setup();
    const lastSeenAt = db.sessions.get(SESSION)?.lastSeenAt;
    await expect(refresh(newRefreshToken().token)).resolves.toEqual({ kind: 'rejected', reason: 'token_not_found' });

    // Each transaction commits a fresh copy of the tables: look the row up again before changing it.
    const token = () => db.tokens.find((t) => t.tokenHash.equals(first.hash))!;
    Object.assign(token(), { expiresAt: new Date(clock.current.getTime() - 1_000) });
    await expect(refresh(first.token)).resolves.toEqual({ kind: 'rejected', reason: 'token_expired' });

    Object.assign(token(), { expiresAt: new Date('2030-01-01'), revokedAt: new Date(clock.current.getTime() - 1_000) });
    await expect(refresh(first.token)).resolves.toEqual({ kind: 'rejected', reason: 'token_revoked' });

    db.sessions.set(SESSION, { ...db.sessions.get(SESSION)!, revokedAt: new Date(clock.current.getTime() - 1_000) });
    await expect(refresh(first.token)).resolves.toEqual({ kind: 'rejected', reason: 'session_inactive' });

    expect(events.outcomes()).toEqual([
      'TokenRefreshAttempted:',
      'TokenRefreshFailed:token_not_found',
      'TokenRefreshAttempted:',
      'TokenRefreshFailed:token_expired',
      'TokenRefreshAttempted:',
      'TokenRefreshFailed:token_revoked',
      'TokenRefreshAttempted:',
      'TokenRefreshFailed:session_inactive',
    ]);
    expect(events.events[3]).toMatchObject({ subjectUserId: ALICE, sessionId: SESSION });
    expect(db.tokens).toHaveLength(1);
    expect(db.sessions.get(SESSION)?.lastSeenAt).toEqual(lastSeenAt);
  });

  it('emits Failed internal_error and rethrows when the store fails, leaving the token usable', async () => {
    const { db, events, first, refresh, rotate } = setup();
    db.failNext = new Error('connection terminated');
    await expect(refresh(first.token)).rejects.toThrow('connection terminated');
    expect(events.outcomes()).toEqual(['TokenRefreshAttempted:', 'TokenRefreshFailed:internal_error']);
    expect(db.tokens.find((t) => t.tokenHash.equals(first.hash))?.revokedAt).toBeNull();
    await expect(rotate()).resolves.toMatchObject({ kind: 'refreshed' });
  });
});
