import { randomUUID } from 'node:crypto';
import { requestContext } from '../../domain/request-context';
import { DEFAULT_LIFETIMES } from '../../domain/session-rules';
import { MemoryLoginAttempts } from '../../infrastructure/cache/memory-login-attempts';
import { FixedClock, inMemoryPorts, RecordingEventBus, RecordingSessionCache } from '../../testing/fakes';
import { NO_SESSION_LIMIT, SessionLimit } from '../../domain/session-limit';
import { AccessTokens } from '../ports/access-token.port';
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

/** Verifies `legacy:<password>` and `current:<password>`; hashes the current way; counts hashes. */
class MigratingHasher implements PasswordHasher {
  hashes = 0;
  /** Runs inside hash(), to play what happens meanwhile. */
  meanwhile: () => void = () => undefined;
  async hash(password: string) {
    this.hashes += 1;
    this.meanwhile();
    return `current:${password}`;
  }
  async verify(hash: string, password: string) {
    return hash === `legacy:${password}` || hash === `current:${password}`;
  }
  needsRehash(hash: string) {
    return !hash.startsWith('current:');
  }
}

const accessTokens: AccessTokens = {
  issue: async () => ({ token: 'access', expiresIn: 900 }),
  verify: async () => null,
  check: async () => ({ kind: 'refused', reason: 'token_invalid' }),
};

function setup(storedHash = 'legacy:right password', limit: SessionLimit = NO_SESSION_LIMIT) {
  const { db: store, unitOfWork, userAccounts, sessionRecords, loginLockouts } = inMemoryPorts();
  const events = new RecordingEventBus();
  const clock = new FixedClock();
  const hasher = new MigratingHasher();
  const attempts = new MemoryLoginAttempts({ keyPrefix: `unit:${randomUUID()}:`, policy: { threshold: 100, lockSeconds: 600, maxDelaySeconds: 8 }, clock });
  const trail = new AuditTrail(events.asEventBus(), clock);
  const handler = new LoginUserHandler(
    unitOfWork,
    userAccounts,
    hasher,
    clock,
    trail,
    new SessionIssuer(DEFAULT_LIFETIMES, accessTokens),
    new LoginGatekeeper(attempts, sessionRecords, clock, DEFAULT_LIFETIMES, loginLockouts),
    new SessionLimits(limit, trail, new SessionRevocations(new RecordingSessionCache(), DEFAULT_LIFETIMES, clock)),
  );
  store.users.set(ALICE, { id: ALICE, email: 'alice@example.com', passwordHash: storedHash, role: 'user', createdAt: new Date() });
  const login = (password: string) => handler.execute(new LoginUser('alice@example.com', password, context));
  const storedHashNow = () => store.users.get(ALICE)!.passwordHash;
  return { store, events, hasher, login, storedHashNow };
}

describe('LoginUserHandler: rehash on login', () => {
  it("stores the current hasher's hash after a successful login with a legacy hash, and says so in Succeeded", async () => {
    const { events, hasher, login, storedHashNow } = setup();
    await expect(login('right password')).resolves.toMatchObject({ kind: 'authenticated', userId: ALICE });
    expect(storedHashNow()).toBe('current:right password');
    expect(hasher.hashes).toBe(1); // the rehash (the decoy is made only for an unknown email)
    expect(events.events.at(-1)).toMatchObject({ outcome: 'succeeded', details: { passwordRehashed: true } });
  });

  it('does not rehash a current hash: the next login leaves it as it is', async () => {
    const { events, hasher, login, storedHashNow } = setup('current:right password');
    await expect(login('right password')).resolves.toMatchObject({ kind: 'authenticated' });
    expect(storedHashNow()).toBe('current:right password');
    expect(hasher.hashes).toBe(0);
    expect(events.events.at(-1)!.details).not.toHaveProperty('passwordRehashed');
  });

  it('never rehashes on a wrong password', async () => {
    const { events, hasher, login, storedHashNow } = setup();
    await expect(login('wrong password')).resolves.toEqual({ kind: 'rejected', reason: 'invalid_credentials' });
    expect(storedHashNow()).toBe('legacy:right password');
    expect(hasher.hashes).toBe(0);
    expect(events.events.at(-1)!.details).not.toHaveProperty('passwordRehashed');
  });

  it('keeps the legacy hash when the login is refused after the rehash (a disabled account): the refusal changes nothing', async () => {
    const { store, events, login, storedHashNow } = setup();
    store.access.set(ALICE, { disabledAt: new Date() });
    await expect(login('right password')).resolves.toEqual({ kind: 'rejected', reason: 'invalid_credentials' });
    expect(storedHashNow()).toBe('legacy:right password');
    expect(store.sessions.size).toBe(0);
    expect(events.outcomes()).toEqual(['UserLoginAttempted:', 'UserLoginFailed:user_disabled']);
  });

  it('signs in when a concurrent login rehashed the same password meanwhile, without rehashing again', async () => {
    const { store, events, hasher, login, storedHashNow } = setup();
    // The other login's rehash commits while this one hashes: the stored hash is no longer the one verified.
    hasher.meanwhile = () => {
      hasher.meanwhile = () => undefined;
      store.users.set(ALICE, { ...store.users.get(ALICE)!, passwordHash: 'current:right password' });
    };
    await expect(login('right password')).resolves.toMatchObject({ kind: 'authenticated' });
    expect(storedHashNow()).toBe('current:right password');
    expect(hasher.hashes).toBe(1);
    expect(events.events.at(-1)).toMatchObject({ outcome: 'succeeded' });
    expect(events.events.at(-1)!.details).not.toHaveProperty('passwordRehashed');
  });

  it('refuses when the password was changed to another one meanwhile, and does not store its rehash', async () => {
    const { store, events, hasher, login, storedHashNow } = setup();
    hasher.meanwhile = () => {
      hasher.meanwhile = () => undefined;
      store.users.set(ALICE, { ...store.users.get(ALICE)!, passwordHash: 'current:another password' });
    };
    await expect(login('right password')).resolves.toEqual({ kind: 'rejected', reason: 'invalid_credentials' });
    expect(storedHashNow()).toBe('current:another password');
    expect(store.sessions.size).toBe(0);
    expect(events.events.at(-1)).toMatchObject({ reason: 'invalid_credentials', details: { passwordChangedMeanwhile: true } });
  });

  it('rolls the rehash back with a login that the session cap refuses (deny_new)', async () => {
    const { store, events, login, storedHashNow } = setup('legacy:right password', { maxPerUser: 1, policy: 'deny_new' });
    store.addSession(ALICE, '0190a5d2-0000-7000-8000-0000000000b1', Buffer.alloc(32));
    await expect(login('right password')).resolves.toEqual({ kind: 'rejected', reason: 'session_limit_reached', maxSessions: 1 });
    expect(storedHashNow()).toBe('legacy:right password');
    expect(events.events.at(-1)).toMatchObject({ outcome: 'failed', reason: 'session_limit_reached' });
  });
});
