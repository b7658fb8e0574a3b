import { randomUUID } from 'node:crypto';
import { newRefreshToken } from '../../domain/refresh-token';
import { requestContext } from '../../domain/request-context';
import { DEFAULT_LIFETIMES } from '../../domain/session-rules';
import { MemoryLoginAttempts } from '../../infrastructure/cache/memory-login-attempts';
import { FixedClock, inMemoryPorts, InProcessCommandBus, RecordingEventBus, RecordingSessionCache } from '../../testing/fakes';
import { AuditTrail } from '../audit/audit-trail';
import { LoginGatekeeper } from '../login-user/login-gatekeeper';
import { PasswordHasher } from '../ports/password-hasher.port';
import { SessionRevocations } from '../revocation/session-revocations';
import { RevokeAllUserSessions } from '../revoke-all-user-sessions/revoke-all-user-sessions.command';
import { RevokeAllUserSessionsHandler } from '../revoke-all-user-sessions/revoke-all-user-sessions.handler';
import { RevokeSession } from '../revoke-session/revoke-session.command';
import { RevokeSessionHandler } from '../revoke-session/revoke-session.handler';
import { ChangePassword } from './change-password.command';
import { ChangePasswordHandler } from './change-password.handler';
import { CurrentPasswordGuesses } from './current-password-guesses';

const ALICE = '0190a5d2-0000-7000-8000-00000000000a';
const session = (n: number) => `0190a5d2-0000-7000-8000-0000000000c${n}`;
const CURRENT = session(1);
const OLD = 'correct horse battery';
const NEW = 'a much better passphrase now';
const context = requestContext('203.0.113.9', 'laptop');
const POLICY = { threshold: 3, lockSeconds: 600, maxDelaySeconds: 8 };

/** `hash:<password>`; `beforeVerify` lets a test act between the read and the transaction. */
class PlainHasher implements PasswordHasher {
  beforeVerify: (() => void) | null = null;
  async hash(password: string) {
    return `hash:${password}`;
  }
  async verify(hash: string, password: string) {
    this.beforeVerify?.();
    return hash === `hash:${password}`;
  }
  needsRehash() {
    return false;
  }
}

function setup() {
  const { db, unitOfWork, userAccounts, sessionRecords, loginLockouts } = inMemoryPorts();
  const events = new RecordingEventBus();
  const cache = new RecordingSessionCache();
  const clock = new FixedClock();
  const hasher = new PlainHasher();
  const trail = new AuditTrail(events.asEventBus(), clock);
  const revocations = new SessionRevocations(cache, DEFAULT_LIFETIMES, clock);
  const bus = new InProcessCommandBus();
  bus.register(RevokeAllUserSessions, new RevokeAllUserSessionsHandler(unitOfWork, trail, revocations));
  bus.register(RevokeSession, new RevokeSessionHandler(unitOfWork, sessionRecords, trail, revocations));
  const attempts = new MemoryLoginAttempts({ keyPrefix: `unit:${randomUUID()}:`, policy: POLICY, clock });
  const guesses = new CurrentPasswordGuesses(new LoginGatekeeper(attempts, sessionRecords, clock, DEFAULT_LIFETIMES, loginLockouts), bus.asCommandBus());
  const handler = new ChangePasswordHandler(unitOfWork, userAccounts, hasher, trail, bus.asCommandBus(), guesses);
  for (let n = 1; n <= 3; n += 1) db.addSession(ALICE, session(n), newRefreshToken().hash);
  db.users.set(ALICE, { ...db.users.get(ALICE)!, email: 'alice@example.com', passwordHash: `hash:${OLD}` });
  const change = (current = OLD, next = NEW) => handler.execute(new ChangePassword(ALICE, CURRENT, current, next, context));
  const active = () => [...db.sessions.values()].filter((s) => s.revokedAt === null).map((s) => s.id);
  return { db, unitOfWork, events, cache, hasher, bus, change, active };
}

describe('ChangePasswordHandler', () => {
  it('sets the new hash and ends every other session in one commit, with both triads', async () => {
    const { db, events, cache, change, active } = setup();
    const commitsBefore = db.commits;
    await expect(change()).resolves.toEqual({
      kind: 'changed',
      revokedCount: 2,
      sessionIds: [session(2), session(3)],
      effectiveAt: new FixedClock().now(),
      accessTokensValidUntil: new Date(new FixedClock().now().getTime() + DEFAULT_LIFETIMES.accessTokenTtlSeconds * 1000),
    });
    // One transaction: the revoke-all joined the password change's, so they committed together.
    expect(db.commits).toBe(commitsBefore + 1);
    expect(db.users.get(ALICE)?.passwordHash).toBe(`hash:${NEW}`);
    expect(active()).toEqual([CURRENT]);
    expect(db.sessions.get(session(2))).toMatchObject({ revokedReason: 'password_changed', revokedBy: ALICE });
    expect(db.tokens.filter((t) => t.revokedAt === null).map((t) => t.sessionId)).toEqual([CURRENT]);
    expect(cache.entries.get(`${ALICE}:${session(2)}`)).toBe('revoked');
    expect(cache.entries.get(`${ALICE}:${session(3)}`)).toBe('revoked');
    expect(cache.entries.has(`${ALICE}:${CURRENT}`)).toBe(false);
    expect(events.outcomes()).toEqual([
      'PasswordChangeAttempted:',
      'AllSessionsRevocationAttempted:password_changed',
      'AllSessionsRevoked:password_changed',
      'PasswordChanged:',
    ]);
    expect(events.events.at(-1)).toMatchObject({ count: 2, sessionIds: [session(2), session(3)], sessionId: CURRENT, actor: { type: 'user', id: ALICE } });
    // Both Succeeded rows were written with the change (the Attempted ones with them).
    expect(db.audit.map((e) => `${e.action}:${e.outcome}`).sort()).toEqual([
      'sessions.revoke_all:attempted',
      'sessions.revoke_all:succeeded',
      'user.password_change:attempted',
      'user.password_change:succeeded',
    ]);
  });

  it('rolls the new hash and the revocations back together when the transaction fails after the revoke-all', async () => {
    const { db, unitOfWork, events, cache, change, active } = setup();
    const inTransaction = unitOfWork.inTransaction.bind(unitOfWork);
    // The outermost transaction (the password change's) fails at its commit; the joined revoke-all's work succeeds.
    let depth = 0;
    unitOfWork.inTransaction = async (work) => {
      depth += 1;
      const outermost = depth === 1;
      try {
        return await inTransaction(async (tx) => {
          const result = await work(tx);
          if (outermost) throw Object.assign(new Error('could not serialize access'), { code: '40001' });
          return result;
        });
      } finally {
        depth -= 1;
      }
    };
    await expect(change()).rejects.toThrow('could not serialize access');
    expect(db.users.get(ALICE)?.passwordHash).toBe(`hash:${OLD}`);
    expect(active()).toEqual([CURRENT, session(2), session(3)]);
    expect(db.outbox).toEqual([]);
    expect(cache.entries.size).toBe(0);
    expect(db.audit).toEqual([]);
    expect(events.outcomes()).toEqual([
      'PasswordChangeAttempted:',
      'AllSessionsRevocationAttempted:password_changed',
      'AllSessionsRevocationFailed:internal_error',
      'PasswordChangeFailed:internal_error',
    ]);
    expect(events.events.slice(2).map((e) => e.details)).toEqual([
      expect.objectContaining({ rolledBack: true, errorCode: '40001' }),
      expect.objectContaining({ rolledBack: true, errorCode: '40001' }),
    ]);
  });

  it('refuses a wrong current password, changing nothing, and counts it as a failed login', async () => {
    const { db, events, bus, change, active } = setup();
    await expect(change('not my password')).resolves.toEqual({ kind: 'rejected', reason: 'invalid_current_password', revocation: null });
    expect(db.users.get(ALICE)?.passwordHash).toBe(`hash:${OLD}`);
    expect(active()).toHaveLength(3);
    expect(events.outcomes()).toEqual(['PasswordChangeAttempted:', 'PasswordChangeFailed:invalid_current_password']);
    expect(bus.dispatched).toEqual([]);
  });

  it('ends the session that keeps guessing the current password once the guesses lock the network out', async () => {
    const { db, events, bus, change } = setup();
    for (let i = 0; i < POLICY.threshold - 1; i += 1) await change(`guess ${i}`);
    expect(db.sessions.get(CURRENT)?.revokedAt).toBeNull();
    const at = new FixedClock().now();
    // The outcome carries the receipt of the session it ended.
    await expect(change('the guess that locks')).resolves.toEqual({
      kind: 'rejected',
      reason: 'invalid_current_password',
      revocation: {
        revokedCount: 1,
        sessionIds: [CURRENT],
        effectiveAt: at,
        accessTokensValidUntil: new Date(at.getTime() + DEFAULT_LIFETIMES.accessTokenTtlSeconds * 1000),
      },
    });
    expect(db.sessions.get(CURRENT)).toMatchObject({ revokedReason: 'password_guessing', revokedBy: null, revokedAt: at });
    expect(bus.dispatched).toEqual([expect.objectContaining({ userId: ALICE, sessionId: CURRENT, actor: { type: 'system', id: null } })]);
    expect(events.outcomes().slice(-3)).toEqual([
      'PasswordChangeFailed:invalid_current_password',
      'SessionRevocationAttempted:password_guessing',
      'SessionRevoked:password_guessing',
    ]);
  });

  it('refuses a weak new password, saying why', async () => {
    const { events, change, active } = setup();
    await expect(change(OLD, 'password')).resolves.toMatchObject({ kind: 'rejected', reason: 'weak_password', problem: expect.any(String) });
    expect(events.events.at(-1)).toMatchObject({ reason: 'weak_password', details: { problem: expect.any(String) } });
    expect(active()).toHaveLength(3);
  });

  it('refuses an unknown user', async () => {
    const { db, events, change } = setup();
    db.users.delete(ALICE);
    await expect(change()).resolves.toEqual({ kind: 'rejected', reason: 'user_not_found' });
    expect(events.outcomes()).toEqual(['PasswordChangeAttempted:', 'PasswordChangeFailed:user_not_found']);
  });

  it('refuses a change verified against a password replaced meanwhile: of two changes, one wins', async () => {
    const { db, events, hasher, change, active } = setup();
    // Another change commits between this one's verification and its transaction.
    hasher.beforeVerify = () => db.users.set(ALICE, { ...db.users.get(ALICE)!, passwordHash: 'hash:the other change' });
    await expect(change()).resolves.toEqual({ kind: 'rejected', reason: 'invalid_current_password', revocation: null });
    expect(db.users.get(ALICE)?.passwordHash).toBe('hash:the other change');
    expect(active()).toHaveLength(3);
    expect(events.events.at(-1)).toMatchObject({ reason: 'invalid_current_password', details: { passwordChangedMeanwhile: true } });
  });
});
