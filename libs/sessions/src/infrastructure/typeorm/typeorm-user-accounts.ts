import { EntityManager } from 'typeorm';
import { CredentialCheck, FirstAdminInsert, NewUser, RoleChange, UserAccountWrites } from '../../application/ports/user-accounts.port';
import { UserRecord, UserRole } from '../../domain/records';
import { ManagerSource, rowsOf } from './sql-rows';
import { UserOrmEntity } from './user.orm-entity';

/** The `users` table. Each statement goes through the manager its source gives (see TypeOrmUnitOfWork). */
export class TypeOrmUserAccounts implements UserAccountWrites {
  constructor(private readonly managers: ManagerSource) {}

  private get manager(): EntityManager {
    return this.managers();
  }

  async findById(userId: string): Promise<UserRecord | null> {
    return this.manager.getRepository(UserOrmEntity).findOne({ where: { id: userId } });
  }

  async findByEmail(email: string): Promise<UserRecord | null> {
    return this.manager.getRepository(UserOrmEntity).findOne({ where: { email } });
  }

  async exists(userId: string): Promise<boolean> {
    const rows = await rowsOf(this.manager, `SELECT 1 FROM users WHERE id = $1`, [userId]);
    return rows.length === 1;
  }

  async adminExists(): Promise<boolean> {
    const rows = await rowsOf(this.manager, `SELECT 1 FROM users WHERE role = 'admin' LIMIT 1`, []);
    return rows.length > 0;
  }

  async insert(user: NewUser): Promise<boolean> {
    const rows = await rowsOf(
      this.manager,
      `INSERT INTO users (id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (email) DO NOTHING RETURNING id`,
      [user.id, user.email, user.passwordHash, user.role, user.createdAt],
    );
    return rows.length === 1;
  }

  async insertFirstAdmin(user: NewUser): Promise<FirstAdminInsert> {
    // Instances starting together (even with different ADMIN_EMAILs) create at most one admin.
    await this.manager.query(`SELECT pg_advisory_xact_lock(hashtext('sessions.admin_bootstrap'))`);
    const taken = async () => {
      const rows = await rowsOf<{ id: string; role: UserRole }>(this.manager, `SELECT id, role FROM users WHERE email = $1`, [user.email]);
      return rows[0] ? ({ kind: 'email_taken', userId: rows[0].id, role: rows[0].role } as const) : null;
    };
    const existing = await taken();
    if (existing) return existing;
    const admins = await rowsOf(this.manager, `SELECT 1 FROM users WHERE role = 'admin' LIMIT 1`, []);
    if (admins.length > 0) return { kind: 'admin_exists' };
    // A registration of the same address may commit between our read and this insert.
    if (await this.insert(user)) return { kind: 'inserted' };
    return (await taken()) ?? { kind: 'admin_exists' };
  }

  async setRole(userId: string, role: UserRole): Promise<RoleChange> {
    // Every admin row and the target, locked in id order: concurrent role changes serialize here
    // instead of deadlocking, and the count below is of rows no one else can change until we commit.
    const rows = await rowsOf<{ id: string; role: UserRole }>(
      this.manager,
      `SELECT id, role FROM users WHERE id = $1 OR role = 'admin' ORDER BY id FOR UPDATE`,
      [userId],
    );
    const target = rows.find((row) => row.id === userId);
    if (!target) return { kind: 'user_not_found' };
    if (target.role === 'admin' && role !== 'admin' && rows.filter((row) => row.role === 'admin').length === 1) return { kind: 'last_admin' };
    await this.manager.query(`UPDATE users SET role = $2 WHERE id = $1`, [userId, role]);
    return { kind: 'set', previousRole: target.role };
  }

  async lockVerifiedCredentials(userId: string, verifiedHash: string): Promise<CredentialCheck> {
    // FOR SHARE conflicts with the password change's UPDATE: whichever comes second waits, and
    // a waiting SELECT ... FOR SHARE reads the row as the change committed it.
    const rows = await rowsOf<{ current: boolean; disabled: boolean; reset_required: boolean }>(
      this.manager,
      `SELECT password_hash = $2 AS current, disabled_at IS NOT NULL AS disabled, password_reset_required_at IS NOT NULL AS reset_required
         FROM users WHERE id = $1 FOR SHARE`,
      [userId, verifiedHash],
    );
    const row = rows[0];
    if (!row) return 'user_not_found';
    if (row.disabled) return 'disabled';
    if (row.reset_required) return 'reset_required';
    return row.current ? 'current' : 'changed';
  }

  async replacePasswordHash(userId: string, expectedHash: string, newHash: string): Promise<boolean> {
    const rows = await rowsOf(this.manager, `UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2 RETURNING id`, [
      userId,
      expectedHash,
      newHash,
    ]);
    return rows.length === 1;
  }

  async setDisabled(userId: string, disabledAt: Date | null): Promise<boolean> {
    const rows = await rowsOf(
      this.manager,
      `UPDATE users SET disabled_at = CASE WHEN $2::timestamptz IS NULL THEN NULL ELSE COALESCE(disabled_at, $2::timestamptz) END
        WHERE id = $1 RETURNING id`,
      [userId, disabledAt],
    );
    return rows.length === 1;
  }

  async requirePasswordReset(userId: string, tokenHash: Buffer, at: Date, expiresAt: Date): Promise<boolean> {
    const rows = await rowsOf(
      this.manager,
      `UPDATE users SET password_reset_required_at = COALESCE(password_reset_required_at, $3), password_reset_token_hash = $2, password_reset_expires_at = $4
        WHERE id = $1 RETURNING id`,
      [userId, tokenHash, at, expiresAt],
    );
    return rows.length === 1;
  }

  async redeemPasswordReset(tokenHash: Buffer, newHash: string, now: Date): Promise<string | null> {
    const rows = await rowsOf<{ id: string }>(
      this.manager,
      `UPDATE users SET password_hash = $2, password_reset_required_at = NULL, password_reset_token_hash = NULL, password_reset_expires_at = NULL
        WHERE password_reset_token_hash = $1 AND password_reset_expires_at > $3 RETURNING id`,
      [tokenHash, newHash, now],
    );
    return rows[0]?.id ?? null;
  }
}
