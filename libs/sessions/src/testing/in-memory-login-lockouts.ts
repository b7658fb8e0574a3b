import { CurrentLoginLock, EngagedLoginLock, LoginLockoutWrites, RecordedLoginLock } from '../application/ports/login-lockouts.port';
import { InMemoryDatabase, lockoutKey, Tables } from './in-memory-database';

/** LoginLockouts over an InMemoryDatabase: its reads, record (on its own, as in PostgreSQL) and, inside a unit of work, markCleared. */
export class InMemoryLoginLockouts implements LoginLockoutWrites {
  constructor(
    private readonly db: InMemoryDatabase,
    private readonly tables: () => Tables = () => db.tables(),
  ) {}

  async record(lock: EngagedLoginLock): Promise<void> {
    this.db.takeFailure();
    // Committed at once: a failed login opens no transaction.
    this.db.lockouts.set(lockoutKey(lock.email, lock.network), { ...lock, clearedAt: null, clearedBy: null });
  }

  async uncleared(email: string): Promise<RecordedLoginLock[]> {
    return [...this.tables().lockouts.values()]
      .filter((row) => row.email === email && row.clearedAt === null)
      .sort((a, b) => (a.network < b.network ? -1 : 1))
      .map((row) => ({ network: row.network, lockedUntil: row.lockedUntil }));
  }

  async current(now: Date, limit: number): Promise<{ total: number; locks: CurrentLoginLock[] }> {
    const { lockouts, users } = this.tables();
    const inForce = [...lockouts.values()]
      .filter((row) => row.clearedAt === null && row.lockedUntil > now)
      .sort((a, b) => b.lockedUntil.getTime() - a.lockedUntil.getTime() || (a.email < b.email ? -1 : 1));
    const accountOf = (email: string) => [...users.values()].find((user) => user.email === email)?.id ?? null;
    return {
      total: inForce.length,
      locks: inForce.slice(0, limit).map((row) => ({ userId: accountOf(row.email), email: row.email, lockedUntil: row.lockedUntil })),
    };
  }

  async markCleared(email: string, locks: readonly RecordedLoginLock[], at: Date, clearedBy: string | null): Promise<number> {
    this.db.takeFailure();
    const { lockouts } = this.tables();
    let live = 0;
    for (const lock of locks) {
      const key = lockoutKey(email, lock.network);
      const row = lockouts.get(key);
      if (!row || row.clearedAt !== null || row.lockedUntil.getTime() !== lock.lockedUntil.getTime()) continue;
      lockouts.set(key, { ...row, clearedAt: at, clearedBy });
      if (row.lockedUntil > at) live += 1;
    }
    return live;
  }
}
