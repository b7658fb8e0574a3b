import { inMemoryPorts } from './fakes';

const ALICE = '0190a5d2-0000-7000-8000-00000000000a';
const BOB = '0190a5d2-0000-7000-8000-00000000000b';
const newUser = (id: string) => ({ id, email: `${id}@example.com`, passwordHash: 'hash', role: 'user' as const, createdAt: new Date() });
const stamp = { reason: 'user_revoked_all', revokedBy: null, at: new Date('2026-11-23T12:00:00Z') };

/** The in-memory unit of work keeps the contract of the PostgreSQL one, so handler tests on it mean something. */
describe('InMemoryUnitOfWork', () => {
  it('joins a unit of work opened inside another: both commit together', async () => {
    const { db, unitOfWork } = inMemoryPorts();
    db.addSession(ALICE, 's1', Buffer.from('t1'));
    await unitOfWork.inTransaction(async (tx) => {
      await tx.users.replacePasswordHash(ALICE, 'hash', 'new hash');
      // What a command dispatched from inside the transaction does (RevokeAllUserSessions from ChangePassword).
      await unitOfWork.inTransaction((nested) => nested.sessions.revokeAll(ALICE, null, stamp));
    });
    expect(db.users.get(ALICE)?.passwordHash).toBe('new hash');
    expect(db.sessions.get('s1')?.revokedAt).toEqual(stamp.at);
    expect(db.commits).toBe(1);
  });

  it('rolls all of it back, the joined part too, when the outer work fails', async () => {
    const { db, unitOfWork } = inMemoryPorts();
    db.addSession(ALICE, 's1', Buffer.from('t1'));
    const rolledBack: unknown[] = [];
    const failure = new Error('deadlock detected');
    await expect(
      unitOfWork.inTransaction(async (tx) => {
        tx.afterRollback((error) => rolledBack.push(error));
        await unitOfWork.inTransaction(async (nested) => {
          await nested.users.insert(newUser(BOB));
          await nested.sessions.revokeAll(ALICE, null, stamp);
        });
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(db.users.has(BOB)).toBe(false);
    expect(db.sessions.get('s1')?.revokedAt).toBeNull();
    expect(rolledBack).toEqual([failure]);
    expect(db.commits).toBe(0);
  });

  it('answers the reads of the port fakes from the open transaction, and only its own', async () => {
    const { db, unitOfWork, userAccounts } = inMemoryPorts();
    let seenInside: unknown;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const writing = unitOfWork.inTransaction(async (tx) => {
      await tx.users.insert(newUser(BOB));
      seenInside = await userAccounts.findById(BOB);
      await held;
    });
    // Another async context, while the transaction is open: uncommitted rows are not visible there.
    const seenOutside = await userAccounts.findById(BOB);
    release();
    await writing;
    expect(seenInside).toMatchObject({ id: BOB });
    expect(seenOutside).toBeNull();
    expect(db.users.has(BOB)).toBe(true);
  });

  it('runs commit hooks after the commit, in order, and a failing one does not undo it', async () => {
    const { db, unitOfWork } = inMemoryPorts();
    const order: string[] = [];
    await unitOfWork.inTransaction(async (tx) => {
      await tx.users.insert(newUser(BOB));
      tx.afterCommit(() => void order.push(`first:${db.users.has(BOB)}`));
      tx.afterCommit(() => {
        throw new Error('hook failed');
      });
      tx.afterCommit(() => void order.push('third'));
    });
    expect(order).toEqual(['first:true', 'third']);
    expect(unitOfWork.hookFailures).toHaveLength(1);
  });

  it('opens a new transaction from a commit hook, not the finished one', async () => {
    const { db, unitOfWork } = inMemoryPorts();
    await unitOfWork.inTransaction(async (tx) => {
      tx.afterCommit(() => unitOfWork.inTransaction((next) => next.users.insert(newUser(BOB))).then(() => undefined));
    });
    expect(db.users.has(BOB)).toBe(true);
    expect(db.commits).toBe(2);
  });
});
