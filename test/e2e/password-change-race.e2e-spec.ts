import type { AuditEntry } from '../../libs/sessions/src/application/ports/audit-log.port';
import type { NewSession } from '../../libs/sessions/src/application/ports/session-records.port';
import { type Transaction, UNIT_OF_WORK, type UnitOfWork } from '../../libs/sessions/src/application/ports/unit-of-work.port';
import { bearer, login, meStatus, signUp } from '../support/api';
import { expectEventually } from '../support/eventually';
import { sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(120_000);

const OLD_PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a new password for this account';
const OVERLAPPING_LOGINS = 8;
/** The pool has 5 connections and the held change keeps one: more logins would wait for a connection, not the lock. */
const HELD_LOGINS = 4;
const ROUNDS = 10;

type Hook<A> = ((arg: A) => Promise<void>) | null;

/**
 * Logins with the old password racing a password change. The windows are forced open with a
 * seam in the store's transactions: the change is held after its revoke-all, before it commits;
 * or a login is held just before it inserts its session. The promise under test: once the change
 * has answered, no session opened with the old password is active, and of two changes verified
 * against one password only one succeeds.
 */
describe('password change racing logins with the old password', () => {
  let stack: TestStack;
  let beforeAudit: Hook<readonly AuditEntry[]> = null;
  let beforeInsertSession: Hook<NewSession> = null;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'password-race' });
    const unitOfWork = stack.web.get<UnitOfWork>(UNIT_OF_WORK);
    const inTransaction = unitOfWork.inTransaction.bind(unitOfWork);
    const seam = (tx: Transaction): Transaction =>
      new Proxy(tx, {
        get(target, property) {
          if (property === 'audit')
            return {
              append: async (entries: readonly AuditEntry[]) => {
                await beforeAudit?.(entries);
                return target.audit.append(entries);
              },
            };
          if (property === 'sessions')
            return new Proxy(target.sessions, {
              get(sessions, name) {
                if (name === 'insert')
                  return async (session: NewSession) => {
                    await beforeInsertSession?.(session);
                    return sessions.insert(session);
                  };
                const value = Reflect.get(sessions, name) as unknown;
                return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(sessions) : value;
              },
            });
          const value = Reflect.get(target, property) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
    unitOfWork.inTransaction = (work) => inTransaction((tx) => work(seam(tx)));
  });

  afterEach(() => {
    beforeAudit = null;
    beforeInsertSession = null;
  });

  afterAll(async () => {
    await stack?.close();
  });

  const isChangeSucceeded = (entries: readonly AuditEntry[]) => entries.some((e) => e.action === 'user.password_change' && e.outcome === 'succeeded');

  /** A gate the test opens; `reached` resolves when someone waits at it. */
  function gate() {
    let open!: () => void;
    let reached!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    return { open, arrived, wait: () => (reached(), opened) };
  }

  /** Connections of this test's database waiting for a row lock. */
  async function lockWaiters(): Promise<number> {
    const [row] = await sql<{ n: number }>(
      stack.databaseUrl,
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return row.n;
  }

  /** 'answered', or how many connections wait for a row lock; the request is still running while it is 0. */
  async function answeredOrWaiting(state: { answered: boolean }): Promise<string> {
    return state.answered ? 'answered' : `${await lockWaiters()} waiting for a row lock`;
  }

  const UNTIL_SETTLED = { timeoutMs: 10_000, intervalMs: 10 };

  function changePassword(accessToken: string, currentPassword = OLD_PASSWORD, newPassword = NEW_PASSWORD) {
    return stack
      .http()
      .post('/auth/password')
      .set(...bearer(accessToken))
      .send({ currentPassword, newPassword });
  }

  /** Starts a login now (supertest sends on then), and tracks whether it has answered. */
  function startLogin(email: string, password: string, userAgent: string) {
    const state = { answered: false };
    const response = stack
      .http()
      .post('/auth/login')
      .set('User-Agent', userAgent)
      .send({ email, password })
      .then((r) => ((state.answered = true), r));
    return { state, response };
  }

  /** Sessions of the user other than `keep` that are still active, in PostgreSQL. */
  async function activeOthers(userId: string, keep: string): Promise<number> {
    const [row] = await sql<{ n: number }>(
      stack.databaseUrl,
      `SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL AND expires_at > now()`,
      [userId, keep],
    );
    return row.n;
  }

  it('refuses, or ends, every old-password login that overlaps a change held open after its revoke-all', async () => {
    const [owner] = await signUp(stack, 1, 'held-change');
    const held = gate();
    beforeAudit = async (entries) => {
      if (isChangeSucceeded(entries)) await held.wait();
    };
    const change = changePassword(owner.accessToken).then((r) => r);
    await held.arrived; // the new hash is written and the other sessions revoked, not yet committed

    const logins = Array.from({ length: HELD_LOGINS }, (_, i) => startLogin(owner.email, OLD_PASSWORD, `overlap-${i}`));
    // Each login has either answered or is waiting for the change's row lock.
    await expectEventually(
      async () => expect(logins.filter((l) => l.state.answered).length + (await lockWaiters())).toBeGreaterThanOrEqual(HELD_LOGINS),
      UNTIL_SETTLED,
    );
    held.open();

    expect((await change).status).toBe(200);
    const responses = await Promise.all(logins.map((l) => l.response));
    expect(responses.filter((r) => r.status !== 200 && r.status !== 401)).toEqual([]);
    const accepted = responses.filter((r) => r.status === 200);
    const stillActive = await Promise.all(accepted.map(async (r) => (await meStatus(stack, r.body.accessToken)) === 200));
    console.log(
      `held change: ${HELD_LOGINS} overlapping logins, ${accepted.length} answered 200, ${stillActive.filter(Boolean).length} still active after the change answered`,
    );
    expect(stillActive.filter(Boolean)).toEqual([]);
    expect(await activeOthers(owner.userId, owner.sessionId)).toBe(0);
    await login(stack, owner.email, NEW_PASSWORD);
  });

  it('ends the session of an old-password login held before its insert while the change runs', async () => {
    const [owner] = await signUp(stack, 1, 'held-login');
    const held = gate();
    beforeInsertSession = async (session) => {
      if (session.userAgent === 'held-login') await held.wait();
    };
    const pending = startLogin(owner.email, OLD_PASSWORD, 'held-login');
    await held.arrived; // the login verified the old password and is about to insert its session

    const changeState = { answered: false };
    const change = changePassword(owner.accessToken).then((r) => ((changeState.answered = true), r));
    // The change either waits for the login's row lock (fixed) or runs to its end (not fixed).
    await expectEventually(async () => expect(await answeredOrWaiting(changeState)).not.toBe('0 waiting for a row lock'), UNTIL_SETTLED);
    held.open();

    const [loginResponse, changeResponse] = await Promise.all([pending.response, change]);
    expect(changeResponse.status).toBe(200);
    if (loginResponse.status === 200) expect(await meStatus(stack, loginResponse.body.accessToken)).toBe(401);
    expect(await activeOthers(owner.userId, owner.sessionId)).toBe(0);
  });

  it(`leaves no old-password session active after the change answers (${ROUNDS} rounds of ${OVERLAPPING_LOGINS} logins overlapping a change)`, async () => {
    let accepted = 0;
    let answeredAfterChange = 0;
    let survivors = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const [owner] = await signUp(stack, 1, `round-${round}`);
      let changeAnswered = false;
      const pendingChange = changePassword(owner.accessToken).then((r) => r);
      const logins = Array.from({ length: OVERLAPPING_LOGINS }, (_, i) =>
        stack
          .http()
          .post('/auth/login')
          .set('User-Agent', `round-${round}-${i}`)
          .send({ email: owner.email, password: OLD_PASSWORD })
          .then((r) => ({ r, afterChange: changeAnswered })),
      );
      const change = await pendingChange;
      changeAnswered = true;
      expect(change.status).toBe(200);
      const active = await activeOthers(owner.userId, owner.sessionId);
      const results = await Promise.all(logins);
      answeredAfterChange += results.filter((x) => x.afterChange).length;
      for (const { r } of results.filter((x) => x.r.status === 200)) {
        accepted += 1;
        if ((await meStatus(stack, r.body.accessToken)) === 200) survivors += 1;
      }
      // Sessions committed after the change answered are counted too: none may be active.
      survivors += Math.max(0, (await activeOthers(owner.userId, owner.sessionId)) - active);
      expect(active).toBe(0);
    }
    console.log(
      `overlapping logins: ${ROUNDS * OVERLAPPING_LOGINS} logins in ${ROUNDS} rounds, ${accepted} answered 200, ${answeredAfterChange} answered after the change, ${survivors} sessions still active`,
    );
    expect(survivors).toBe(0);
  });

  it('lets only one of two changes verified against the same password succeed', async () => {
    // Both from one session, which each change keeps: the other sessions' tokens are refused once revoked.
    const [first] = await signUp(stack, 1, 'double-change');
    const held = gate();
    beforeAudit = async (entries) => {
      if (isChangeSucceeded(entries)) await held.wait();
    };
    const one = changePassword(first.accessToken, OLD_PASSWORD, 'first new password here').then((r) => r);
    await held.arrived;
    beforeAudit = null;
    const twoState = { answered: false };
    const two = changePassword(first.accessToken, OLD_PASSWORD, 'second new password here').then((r) => ((twoState.answered = true), r));
    await expectEventually(async () => expect(await answeredOrWaiting(twoState)).not.toBe('0 waiting for a row lock'), UNTIL_SETTLED);
    held.open();

    const [a, b] = await Promise.all([one, two]);
    expect([a.status, b.status]).toEqual([200, 403]);
    await login(stack, first.email, 'first new password here');
    await stack.http().post('/auth/login').send({ email: first.email, password: 'second new password here' }).expect(401);
  });
});
