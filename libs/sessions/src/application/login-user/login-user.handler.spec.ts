import { randomUUID } from 'node:crypto';
import { requestContext } from '../../domain/request-context';
import { DEFAULT_LIFETIMES } from '../../domain/session-rules';
import { MemoryLoginAttempts } from '../../infrastructure/cache/memory-login-attempts';
import { FixedClock, inMemoryPorts, RecordingEventBus, RecordingSessionCache } from '../../testing/fakes';
import { NO_SESSION_LIMIT, SessionLimit } from '../../domain/session-limit';
import { AccessTokens } from '../ports/access-token.port';
import { LoginAttempts } from '../ports/login-attempts.port';
import { PasswordHasher } from '../ports/password-hasher.port';
import { AuditTrail } from '../audit/audit-trail';
import { SessionRevocations } from '../revocation/session-revocations';
import { SessionLimits } from '../session-limit/session-limits';
import { SessionIssuer } from '../tokens/session-issuer';
import { LoginGatekeeper } from './login-gatekeeper';
import { LoginUser } from './login-user.command';
import { LoginUserHandler } from './login-user.handler';

const ALICE = '0190a5d2-0000-7000-8000-00000000000a';
const context = requestContext('203.0.113.9', 'unit-test');
const POLICY = { threshold: 3, lockSeconds: 600, maxDelaySeconds: 8 };

/** `hash:<password>`; counts verifications, since a locked login must cost as much as any other. */
class PlainHasher implements PasswordHasher {
  verifications = 0;
  async hash(password: string) {
    return `hash:${password}`;
  }
  async verify(hash: string, password: string) {
    this.verifications += 1;
    return hash === `hash:${password}`;
  }
  needsRehash() {
    return false;
  }
}

const accessTokens: AccessTokens = {
  issue: async () => ({ token: 'access', expiresIn: 900 }),
  verify: async () => null,
  check: async () => ({ kind: 'refused', reason: 'token_invalid' }),
};

function setup(wrap: (attempts: LoginAttempts) => LoginAttempts = (attempts) => attempts, limit: SessionLimit = NO_SESSION_LIMIT) {
  const { db: store, unitOfWork, userAccounts, sessionRecords, loginLockouts } = inMemoryPorts();
  const events = new RecordingEventBus();
  const clock = new FixedClock();
  const hasher = new PlainHasher();
  // A prefix of its own: memory adapters with one prefix share their counts in a process.
  const attempts = wrap(new MemoryLoginAttempts({ keyPrefix: `unit:${randomUUID()}:`, policy: POLICY, clock }));
  const gatekeeper = new LoginGatekeeper(attempts, sessionRecords, clock, DEFAULT_LIFETIMES, loginLockouts);
  const trail = new AuditTrail(events.asEventBus(), clock);
  const cache = new RecordingSessionCache();
  const limits = new SessionLimits(limit, trail, new SessionRevocations(cache, DEFAULT_LIFETIMES, clock));
  const handler = new LoginUserHandler(unitOfWork, userAccounts, hasher, clock, trail, new SessionIssuer(DEFAULT_LIFETIMES, accessTokens), gatekeeper, limits);
  store.users.set(ALICE, { id: ALICE, email: 'alice@example.com', passwordHash: 'hash:right password', role: 'user', createdAt: new Date() });
  const login = (email: string, password: string, from = context) => handler.execute(new LoginUser(email, password, from));
  return { store, unitOfWork, events, clock, hasher, attempts, login, handler, cache };
}

describe('LoginUserHandler', () => {
  it('opens a session for the right password', async () => {
    const { store, events, login } = setup();
    const outcome = await login(' Alice@Example.com ', 'right password');
    expect(outcome).toMatchObject({ kind: 'authenticated', userId: ALICE });
    expect(store.sessions.size).toBe(1);
    expect(events.outcomes()).toEqual(['UserLoginAttempted:', 'UserLoginSucceeded:']);
  });

  it('locks only the network that guessed (an IPv6 /64 is one network): the owner elsewhere still signs in', async () => {
    const { clock, login } = setup();
    const attacker = requestContext('2001:db8:1:2::1', 'attacker');
    for (let i = 0; i < POLICY.threshold; i += 1) await login('alice@example.com', 'wrong', attacker);
    clock.current = new Date(clock.current.getTime() + 1_000); // past the email-wide delay of 1 s
    await expect(login('alice@example.com', 'right password', requestContext('2001:db8:1:2:ffff::9', 'attacker'))).resolves.toMatchObject({
      reason: 'account_locked',
    });
    await expect(login('alice@example.com', 'right password', requestContext('192.0.2.50', 'owner'))).resolves.toMatchObject({ kind: 'authenticated' });
  });

  it('delays logins for an email progressively after failures from many networks, never locks it, and lets a known network in', async () => {
    const { clock, login, store, events } = setup();
    const owner = requestContext('198.51.100.7', 'owner');
    await expect(login('alice@example.com', 'right password', owner)).resolves.toMatchObject({ kind: 'authenticated' });
    const from = (i: number) => requestContext(`203.0.113.${100 + i}`, 'attacker');
    let n = 0;
    for (; n < POLICY.threshold; n += 1) await login('alice@example.com', 'wrong', from(n));
    // 3 failures from 3 networks: delayed 1 s, then 2 s, 4 s, 8 s (the cap), 8 s ...
    const delays: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      const refused = await login('alice@example.com', 'wrong', from(n++));
      expect(refused).toMatchObject({ reason: 'login_delayed' });
      const until = (refused as { delayedUntil: Date }).delayedUntil.getTime();
      delays.push(until - clock.now().getTime());
      // The owner's network is never delayed.
      await expect(login('alice@example.com', 'right password', owner)).resolves.toMatchObject({ kind: 'authenticated' });
      clock.current = new Date(until);
      await expect(login('alice@example.com', 'wrong', from(n++))).resolves.toMatchObject({ reason: 'invalid_credentials' });
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
    // A new network with the right password gets in once the delay has passed: a delay, not a lock.
    clock.current = new Date(clock.current.getTime() + 8_000);
    await expect(login('alice@example.com', 'right password', requestContext('192.0.2.1', 'new device'))).resolves.toMatchObject({
      kind: 'authenticated',
    });
    expect(store.sessions.size).toBe(7);
    expect(events.events.filter((e) => e.reason === 'login_delayed')).toHaveLength(5);
  });

  it('locks an email after the threshold of failures, and records the moment the lock engages', async () => {
    const { events, clock, login } = setup();
    for (let i = 0; i < POLICY.threshold; i += 1) {
      await expect(login('alice@example.com', 'wrong')).resolves.toEqual({ kind: 'rejected', reason: 'invalid_credentials' });
    }
    const failed = events.events.filter((e) => e.outcome === 'failed');
    expect(failed.map((e) => e.details)).toEqual([
      { userKnown: true },
      { userKnown: true },
      {
        userKnown: true,
        failedAttempts: 3,
        lockedUntil: new Date(clock.now().getTime() + 600_000).toISOString(),
        emailFailures: 3,
        delayedUntil: new Date(clock.now().getTime() + 1_000).toISOString(),
      },
    ]);
    expect(failed.every((e) => e.subjectUserId === ALICE && e.reason === 'invalid_credentials')).toBe(true);
  });

  it('refuses even the right password while locked, after the same work as any failure, and never extends the lock', async () => {
    const { events, clock, hasher, login, store } = setup();
    for (let i = 0; i < POLICY.threshold; i += 1) await login('alice@example.com', 'wrong');
    const lockedUntil = new Date(clock.now().getTime() + 600_000);
    hasher.verifications = 0;

    clock.current = new Date(clock.current.getTime() + 300_000);
    await expect(login('ALICE@example.com', 'right password')).resolves.toEqual({ kind: 'rejected', reason: 'account_locked', lockedUntil });
    await expect(login('alice@example.com', 'wrong')).resolves.toMatchObject({ reason: 'account_locked', lockedUntil });
    expect(hasher.verifications).toBe(2);
    expect(store.sessions.size).toBe(0);
    expect(events.events.at(-1)).toMatchObject({
      reason: 'account_locked',
      subjectUserId: ALICE,
      details: { userKnown: true, lockedUntil: lockedUntil.toISOString() },
    });

    clock.current = new Date(lockedUntil.getTime());
    await expect(login('alice@example.com', 'right password')).resolves.toMatchObject({ kind: 'authenticated' });
  });

  it('locks an unknown email exactly as a known one, so a lock says nothing about accounts', async () => {
    const { events, hasher, login } = setup();
    for (let i = 0; i < POLICY.threshold; i += 1) await login('nobody@example.com', 'guess');
    await expect(login('nobody@example.com', 'guess')).resolves.toMatchObject({ reason: 'account_locked' });
    expect(hasher.verifications).toBe(POLICY.threshold + 1);
    expect(events.events.at(-1)).toMatchObject({ subjectUserId: null, details: { userKnown: false } });
  });

  it('refuses the right password of a disabled account, or one that must be reset, with the answer of a wrong one', async () => {
    const { store, events, login } = setup();
    store.access.set(ALICE, { disabledAt: new Date() });
    await expect(login('alice@example.com', 'right password')).resolves.toEqual({ kind: 'rejected', reason: 'invalid_credentials' });
    store.access.set(ALICE, { resetRequiredAt: new Date() });
    await expect(login('alice@example.com', 'right password')).resolves.toEqual({ kind: 'rejected', reason: 'invalid_credentials' });
    expect(store.sessions.size).toBe(0);
    expect(events.outcomes()).toEqual([
      'UserLoginAttempted:',
      'UserLoginFailed:user_disabled',
      'UserLoginAttempted:',
      'UserLoginFailed:password_reset_required',
    ]);
  });

  it('opens no session when the password verified was replaced before the session could be inserted', async () => {
    const { store, unitOfWork, events, login } = setup();
    const lock = unitOfWork.inTransaction.bind(unitOfWork);
    // The change commits between the verification and the login's transaction.
    unitOfWork.inTransaction = async (work) => {
      store.users.set(ALICE, { ...store.users.get(ALICE)!, passwordHash: 'hash:new password' });
      return lock(work);
    };
    await expect(login('alice@example.com', 'right password')).resolves.toEqual({ kind: 'rejected', reason: 'invalid_credentials' });
    expect(store.sessions.size).toBe(0);
    expect(events.events.at(-1)).toMatchObject({ reason: 'invalid_credentials', details: { userKnown: true, passwordChangedMeanwhile: true } });
  });

  it('forgets the failures after a successful login', async () => {
    const { events, login } = setup();
    for (let i = 0; i < POLICY.threshold - 1; i += 1) await login('alice@example.com', 'wrong');
    await expect(login('alice@example.com', 'right password')).resolves.toMatchObject({ kind: 'authenticated' });
    for (let i = 0; i < POLICY.threshold - 1; i += 1) {
      await expect(login('alice@example.com', 'wrong')).resolves.toMatchObject({ reason: 'invalid_credentials' });
    }
    expect(events.events.filter((e) => e.details.lockedUntil !== undefined)).toEqual([]);
  });

  it('opens a console session for an administrator only; anyone else’s right password is a wrong one that is not counted as a guess', async () => {
    const { store, events, login, handler } = setup();
    const consoleLogin = (password: string) => handler.execute(new LoginUser('alice@example.com', password, context, 'console'));
    for (let i = 0; i < POLICY.threshold + 1; i += 1) {
      await expect(consoleLogin('right password')).resolves.toEqual({ kind: 'rejected', reason: 'invalid_credentials' });
    }
    expect(events.events.filter((e) => e.outcome === 'failed').map((e) => [e.reason, e.details])).toEqual(
      Array.from({ length: POLICY.threshold + 1 }, () => ['not_an_administrator', { purpose: 'console', userKnown: true }]),
    );
    // Not counted: no lock, the web login still opens a session from here.
    await expect(login('alice@example.com', 'right password')).resolves.toMatchObject({ kind: 'authenticated' });
    store.users.set(ALICE, { ...store.users.get(ALICE)!, role: 'admin' });
    const opened = await consoleLogin('right password');
    expect(opened).toMatchObject({ kind: 'authenticated', userId: ALICE, credential: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const session = store.sessions.get((opened as { sessionId: string }).sessionId)!;
    expect(session).toMatchObject({ kind: 'console', reauthenticatedAt: session.createdAt });
    expect(session.expiresAt.getTime() - session.createdAt.getTime()).toBe(DEFAULT_LIFETIMES.consoleSessionTtlSeconds * 1000);
    expect(events.events.at(-1)).toMatchObject({ outcome: 'succeeded', details: { purpose: 'console' } });
  });

  it('still answers a successful login when resetting the count fails', async () => {
    const { events, login } = setup((attempts) => ({
      gate: (key) => attempts.gate(key),
      recordFailure: (key) => attempts.recordFailure(key),
      clear: (email, networks) => attempts.clear(email, networks),
      reset: async () => {
        throw new Error('store down');
      },
    }));
    await expect(login('alice@example.com', 'right password')).resolves.toMatchObject({ kind: 'authenticated' });
    expect(events.outcomes()).toEqual(['UserLoginAttempted:', 'UserLoginSucceeded:']);
  });
});

describe('LoginUserHandler: the session cap', () => {
  const login3 = async (login: (email: string, password: string) => Promise<unknown>, clock: FixedClock) => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      clock.current = new Date(clock.current.getTime() + 1_000);
      ids.push(((await login('alice@example.com', 'right password')) as { sessionId: string }).sessionId);
    }
    return ids;
  };
  const live = (store: ReturnType<typeof setup>['store']) =>
    [...store.sessions.values()].filter((s) => s.kind === 'app' && s.revokedAt === null).map((s) => s.id);

  it('evict_oldest: a login at the cap ends the oldest session, as its own audited revocation, and says so', async () => {
    const { store, events, clock, login, cache } = setup(undefined, { maxPerUser: 2, policy: 'evict_oldest' });
    const [oldest, second, third] = await login3(login, clock);
    expect(live(store).sort()).toEqual([second, third].sort());
    expect(store.sessions.get(oldest)).toMatchObject({ revokedReason: 'session_limit_evicted', revokedBy: null });
    const lastLogin = events.events.slice(-4);
    expect(lastLogin.map((e) => `${e.constructor.name}:${e.reason ?? ''}`)).toEqual([
      'UserLoginAttempted:',
      'SessionRevocationAttempted:session_limit_evicted',
      'SessionRevoked:session_limit_evicted',
      'UserLoginSucceeded:',
    ]);
    expect(lastLogin[2]).toMatchObject({ actor: { type: 'system', id: null }, subjectUserId: ALICE, sessionIds: [oldest], count: 1 });
    expect(lastLogin[2].details).toMatchObject({ loginCorrelationId: lastLogin[0].correlationId, maxPerUser: 2 });
    expect(lastLogin[3]).toMatchObject({ sessionId: third, details: { evictedSessionIds: [oldest] } });
    expect(cache.entries.get(`${ALICE}:${oldest}`)).toBe('revoked');
  });

  it('evict_oldest rolls the eviction back with a login that fails after it, and records the eviction as Failed', async () => {
    const { store, events, clock, login } = setup(undefined, { maxPerUser: 2, policy: 'evict_oldest' });
    const ids = await login3(login, clock);
    const signing = jest.spyOn(accessTokens, 'issue').mockRejectedValueOnce(new Error('signer down'));
    await expect(login('alice@example.com', 'right password')).rejects.toThrow('signer down');
    signing.mockRestore();
    expect(live(store).sort()).toEqual(ids.slice(1).sort());
    expect(events.outcomes().slice(-4)).toEqual([
      'UserLoginAttempted:',
      'SessionRevocationAttempted:session_limit_evicted',
      'SessionRevocationFailed:internal_error',
      'UserLoginFailed:internal_error',
    ]);
    expect(events.events.at(-2)).toMatchObject({ details: { rolledBack: true } });
  });

  it('deny_new: a login at the cap is refused, opens and ends nothing, and the audit trail says why', async () => {
    const { store, events, clock, login } = setup(undefined, { maxPerUser: 2, policy: 'deny_new' });
    const [first, second, third] = await login3(login, clock);
    expect(third).toBeUndefined();
    expect(live(store).sort()).toEqual([first, second].sort());
    expect(store.sessions.size).toBe(2);
    await expect(login('alice@example.com', 'right password')).resolves.toEqual({ kind: 'rejected', reason: 'session_limit_reached', maxSessions: 2 });
    expect(events.events.at(-1)).toMatchObject({ outcome: 'failed', reason: 'session_limit_reached', details: { maxPerUser: 2, liveSessions: 2 } });
  });

  it('deny_new answers a wrong password as a wrong password, at the cap too: no oracle', async () => {
    const { clock, login } = setup(undefined, { maxPerUser: 1, policy: 'deny_new' });
    await login3(login, clock);
    await expect(login('alice@example.com', 'wrong')).resolves.toEqual({ kind: 'rejected', reason: 'invalid_credentials' });
    await expect(login('nobody@example.com', 'right password')).resolves.toEqual({ kind: 'rejected', reason: 'invalid_credentials' });
  });

  it('does not count console sessions, nor cap them', async () => {
    const { store, clock, login, handler } = setup(undefined, { maxPerUser: 1, policy: 'deny_new' });
    store.users.set(ALICE, { ...store.users.get(ALICE)!, role: 'admin' });
    const consoleLogin = () => handler.execute(new LoginUser('alice@example.com', 'right password', context, 'console'));
    await expect(consoleLogin()).resolves.toMatchObject({ kind: 'authenticated' });
    await expect(login('alice@example.com', 'right password')).resolves.toMatchObject({ kind: 'authenticated' });
    clock.current = new Date(clock.current.getTime() + 1_000);
    await expect(consoleLogin()).resolves.toMatchObject({ kind: 'authenticated' });
    expect(
      [...store.sessions.values()]
        .filter((s) => s.revokedAt === null)
        .map((s) => s.kind)
        .sort(),
    ).toEqual(['app', 'console', 'console']);
  });
});
