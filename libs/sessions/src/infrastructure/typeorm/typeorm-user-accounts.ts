import { EntityManager } from 'typeorm';
import {
  CredentialCheck,
  CredentialLock,
  FirstAdminInsert,
  NewUser,
  RoleChange,
  UserAccountWrites,
  UserListing,
  UserSearch,
} from '../../application/ports/user-accounts.port';
import { UserRecord, UserRole } from '../../domain/records';
import { likePrefixPattern } from './like-pattern';
import { DEFAULT_SESSIONS_SCHEMA } from './schema-name';
import { ManagerSource, rowsOf } from './sql-rows';
import {
  ADMIN_BOOTSTRAP_LOCK_SQL,
  adminBootstrapLockKey,
  insertUserSql,
  lockRoleHoldersSql,
  lockVerifiedCredentialsSerializedSql,
  lockVerifiedCredentialsSql,
  redeemPasswordResetSql,
  replacePasswordHashSql,
  requirePasswordResetSql,
  searchUsersSql,
  selectAnyAdminSql,
  selectUserByEmailSql,
  selectUserByIdSql,
  selectUserRoleByEmailSql,
  setUserDisabledSql,
  updateUserRoleSql,
  userExistsSql,
} from './user-accounts.sql';

/** The `users` table. Each statement goes through the manager its source gives (see TypeOrmUnitOfWork). */
export class TypeOrmUserAccounts implements UserAccountWrites {
  constructor(
    private readonly managers: ManagerSource,
    /** The library's PostgreSQL schema (see sessionsSchemaName). */
    private readonly schema: string = DEFAULT_SESSIONS_SCHEMA,
  ) {}

  private get manager(): EntityManager {
    return this.managers();
  }

  async findById(userId: string): Promise<UserRecord | null> {
    return (await rowsOf<UserRecord>(this.manager, selectUserByIdSql(this.schema), [userId]))[0] ?? null;
  }

  async findByEmail(email: string): Promise<UserRecord | null> {
    return (await rowsOf<UserRecord>(this.manager, selectUserByEmailSql(this.schema), [email]))[0] ?? null;
  }

  async exists(userId: string): Promise<boolean> {
    const rows = await rowsOf(this.manager, userExistsSql(this.schema), [userId]);
    return rows.length === 1;
  }

  async adminExists(): Promise<boolean> {
    const rows = await rowsOf(this.manager, selectAnyAdminSql(this.schema), []);
    return rows.length > 0;
  }

  search(search: UserSearch): Promise<UserListing[]> {
    return rowsOf<UserListing>(this.manager, searchUsersSql(this.schema), [
      search.id ?? null,
      search.emailPrefix === undefined ? null : likePrefixPattern(search.emailPrefix),
      search.after?.email ?? null,
      search.after?.id ?? null,
      search.status ?? null,
      search.now,
      search.limit,
    ]);
  }

  async insert(user: NewUser): Promise<boolean> {
    const rows = await rowsOf(this.manager, insertUserSql(this.schema), [user.id, user.email, user.passwordHash, user.role, user.createdAt]);
    return rows.length === 1;
  }

  async insertFirstAdmin(user: NewUser): Promise<FirstAdminInsert> {
    // Instances starting together (even with different ADMIN_EMAILs) create at most one admin.
    await this.manager.query(ADMIN_BOOTSTRAP_LOCK_SQL, [adminBootstrapLockKey(this.schema)]);
    const taken = async () => {
      const rows = await rowsOf<{ id: string; role: UserRole }>(this.manager, selectUserRoleByEmailSql(this.schema), [user.email]);
      return rows[0] ? ({ kind: 'email_taken', userId: rows[0].id, role: rows[0].role } as const) : null;
    };
    const existing = await taken();
    if (existing) return existing;
    if (await this.adminExists()) return { kind: 'admin_exists' };
    // A registration of the same address may commit between our read and this insert.
    if (await this.insert(user)) return { kind: 'inserted' };
    return (await taken()) ?? { kind: 'admin_exists' };
  }

  async setRole(userId: string, role: UserRole): Promise<RoleChange> {
    // Every admin row and the target, locked in id order (see lockRoleHoldersSql).
    const rows = await rowsOf<{ id: string; role: UserRole }>(this.manager, lockRoleHoldersSql(this.schema), [userId]);
    const target = rows.find((row) => row.id === userId);
    if (!target) return { kind: 'user_not_found' };
    if (target.role === 'admin' && role !== 'admin' && rows.filter((row) => row.role === 'admin').length === 1) return { kind: 'last_admin' };
    await this.manager.query(updateUserRoleSql(this.schema), [userId, role]);
    return { kind: 'set', previousRole: target.role };
  }

  async lockVerifiedCredentials(userId: string, verifiedHash: string, lock: CredentialLock = 'shared'): Promise<CredentialCheck> {
    const statement = lock === 'serialized' ? lockVerifiedCredentialsSerializedSql : lockVerifiedCredentialsSql;
    const rows = await rowsOf<{ current: boolean; disabled: boolean; reset_required: boolean }>(this.manager, statement(this.schema), [userId, verifiedHash]);
    const row = rows[0];
    if (!row) return 'user_not_found';
    if (row.disabled) return 'disabled';
    if (row.reset_required) return 'reset_required';
    return row.current ? 'current' : 'changed';
  }

  async replacePasswordHash(userId: string, expectedHash: string, newHash: string): Promise<boolean> {
    const rows = await rowsOf(this.manager, replacePasswordHashSql(this.schema), [userId, expectedHash, newHash]);
    return rows.length === 1;
  }

  async setDisabled(userId: string, disabledAt: Date | null): Promise<boolean> {
    const rows = await rowsOf(this.manager, setUserDisabledSql(this.schema), [userId, disabledAt]);
    return rows.length === 1;
  }

  async requirePasswordReset(userId: string, tokenHash: Buffer, at: Date, expiresAt: Date): Promise<boolean> {
    const rows = await rowsOf(this.manager, requirePasswordResetSql(this.schema), [userId, tokenHash, at, expiresAt]);
    return rows.length === 1;
  }

  async redeemPasswordReset(tokenHash: Buffer, newHash: string, now: Date): Promise<string | null> {
    const rows = await rowsOf<{ id: string }>(this.manager, redeemPasswordResetSql(this.schema), [tokenHash, newHash, now]);
    return rows[0]?.id ?? null;
  }
}
