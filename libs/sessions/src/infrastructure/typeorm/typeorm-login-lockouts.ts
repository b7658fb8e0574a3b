import { EntityManager } from 'typeorm';
import { CurrentLoginLock, EngagedLoginLock, LoginLockoutWrites, RecordedLoginLock } from '../../application/ports/login-lockouts.port';
import { clearLoginLockoutsSql, selectCurrentLoginLockoutsSql, selectUnclearedLoginLockoutsSql, upsertLoginLockoutSql } from './login-lockouts.sql';
import { DEFAULT_SESSIONS_SCHEMA } from './schema-name';
import { ManagerSource, rowsOf } from './sql-rows';

/** The `login_lockouts` table. Each statement goes through the manager its source gives (see TypeOrmUnitOfWork). */
export class TypeOrmLoginLockouts implements LoginLockoutWrites {
  constructor(
    private readonly managers: ManagerSource,
    private readonly schema: string = DEFAULT_SESSIONS_SCHEMA,
  ) {}

  private get manager(): EntityManager {
    return this.managers();
  }

  async record(lock: EngagedLoginLock): Promise<void> {
    await this.manager.query(upsertLoginLockoutSql(this.schema), [lock.email, lock.network, lock.userId, lock.failedAttempts, lock.lockedAt, lock.lockedUntil]);
  }

  uncleared(email: string): Promise<RecordedLoginLock[]> {
    return rowsOf<RecordedLoginLock>(this.manager, selectUnclearedLoginLockoutsSql(this.schema), [email]);
  }

  async current(now: Date, limit: number): Promise<{ total: number; locks: CurrentLoginLock[] }> {
    const rows = await rowsOf<CurrentLoginLock & { total: string }>(this.manager, selectCurrentLoginLockoutsSql(this.schema), [now, limit]);
    return { total: rows.length === 0 ? 0 : Number(rows[0].total), locks: rows.map(({ total: _total, ...lock }) => lock) };
  }

  async markCleared(email: string, locks: readonly RecordedLoginLock[], at: Date, clearedBy: string | null): Promise<number> {
    if (locks.length === 0) return 0;
    const rows = await rowsOf<{ live: boolean }>(this.manager, clearLoginLockoutsSql(this.schema), [
      email,
      locks.map((lock) => lock.network),
      locks.map((lock) => lock.lockedUntil),
      at,
      clearedBy,
    ]);
    return rows.filter((row) => row.live).length;
  }
}
