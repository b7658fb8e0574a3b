import {
  CredentialCheck,
  FirstAdminInsert,
  NewUser,
  RoleChange,
  UserAccountWrites,
  UserListing,
  UserSearch,
  UserStatus,
} from '../application/ports/user-accounts.port';
import { UserRecord, UserRole } from '../domain/records';
import { InMemoryDatabase, Tables } from './in-memory-database';

/** UserAccounts over an InMemoryDatabase: its reads and, inside a unit of work, its writes. */
export class InMemoryUserAccounts implements UserAccountWrites {
  constructor(
    private readonly db: InMemoryDatabase,
    private readonly tables: () => Tables = () => db.tables(),
  ) {}

  async findById(userId: string): Promise<UserRecord | null> {
    return this.tables().users.get(userId) ?? null;
  }
  async findByEmail(email: string): Promise<UserRecord | null> {
    return [...this.tables().users.values()].find((u) => u.email === email) ?? null;
  }
  async exists(userId: string): Promise<boolean> {
    this.db.takeFailure();
    return this.tables().users.has(userId);
  }
  async adminExists(): Promise<boolean> {
    return [...this.tables().users.values()].some((u) => u.role === 'admin');
  }

  async search(search: UserSearch): Promise<UserListing[]> {
    const { users, access, lockouts } = this.tables();
    // Byte order of UTF-8 is code point order, as PostgreSQL's "C" collation compares.
    const byCodePoint = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    const listings = [...users.values()].map((user): UserListing => {
      const controls = access.get(user.id);
      const locks = [...lockouts.values()].filter((row) => row.email === user.email && row.clearedAt === null && row.lockedUntil > search.now);
      const lockedUntil = locks.reduce<Date | null>((latest, row) => (latest === null || row.lockedUntil > latest ? row.lockedUntil : latest), null);
      return {
        id: user.id,
        email: user.email,
        role: user.role,
        createdAt: user.createdAt,
        disabled: Boolean(controls?.disabledAt),
        passwordResetRequired: Boolean(controls?.resetRequiredAt),
        lockedUntil,
      };
    });
    const statusOf = (listing: UserListing): UserStatus => (listing.disabled ? 'disabled' : listing.lockedUntil ? 'locked' : 'active');
    const after = search.after;
    return listings
      .filter(
        (listing) =>
          (search.id === undefined || listing.id === search.id) &&
          (search.emailPrefix === undefined || listing.email.startsWith(search.emailPrefix)) &&
          (search.status === undefined || statusOf(listing) === search.status) &&
          (after === undefined || byCodePoint(listing.email, after.email) > 0 || (listing.email === after.email && listing.id > after.id)),
      )
      .sort((a, b) => byCodePoint(a.email, b.email) || (a.id < b.id ? -1 : 1))
      .slice(0, search.limit);
  }

  async insert(user: NewUser): Promise<boolean> {
    this.db.takeFailure();
    const { users } = this.tables();
    if ([...users.values()].some((u) => u.email === user.email)) return false;
    users.set(user.id, user);
    return true;
  }
  async insertFirstAdmin(user: NewUser): Promise<FirstAdminInsert> {
    this.db.takeFailure();
    const { users } = this.tables();
    const taken = [...users.values()].find((u) => u.email === user.email);
    if (taken) return { kind: 'email_taken', userId: taken.id, role: taken.role };
    if ([...users.values()].some((u) => u.role === 'admin')) return { kind: 'admin_exists' };
    users.set(user.id, user);
    return { kind: 'inserted' };
  }
  async setRole(userId: string, role: UserRole): Promise<RoleChange> {
    this.db.takeFailure();
    const { users } = this.tables();
    const user = users.get(userId);
    if (!user) return { kind: 'user_not_found' };
    const admins = [...users.values()].filter((u) => u.role === 'admin').length;
    if (user.role === 'admin' && role !== 'admin' && admins === 1) return { kind: 'last_admin' };
    users.set(userId, { ...user, role });
    return { kind: 'set', previousRole: user.role };
  }
  async lockVerifiedCredentials(userId: string, verifiedHash: string): Promise<CredentialCheck> {
    this.db.takeFailure();
    const { users, access } = this.tables();
    const user = users.get(userId);
    if (!user) return 'user_not_found';
    const controls = access.get(userId);
    if (controls?.disabledAt) return 'disabled';
    if (controls?.resetRequiredAt) return 'reset_required';
    return user.passwordHash === verifiedHash ? 'current' : 'changed';
  }
  async replacePasswordHash(userId: string, expectedHash: string, newHash: string): Promise<boolean> {
    this.db.takeFailure();
    const { users } = this.tables();
    const user = users.get(userId);
    if (!user || user.passwordHash !== expectedHash) return false;
    users.set(userId, { ...user, passwordHash: newHash });
    return true;
  }
  async setDisabled(userId: string, disabledAt: Date | null): Promise<boolean> {
    this.db.takeFailure();
    const { users, access } = this.tables();
    if (!users.has(userId)) return false;
    const controls = access.get(userId) ?? {};
    access.set(userId, { ...controls, disabledAt: disabledAt === null ? null : (controls.disabledAt ?? disabledAt) });
    return true;
  }
  async requirePasswordReset(userId: string, tokenHash: Buffer, at: Date, expiresAt: Date): Promise<boolean> {
    this.db.takeFailure();
    const { users, access } = this.tables();
    if (!users.has(userId)) return false;
    const controls = access.get(userId) ?? {};
    access.set(userId, { ...controls, resetRequiredAt: controls.resetRequiredAt ?? at, resetTokenHash: tokenHash, resetExpiresAt: expiresAt });
    return true;
  }
  async redeemPasswordReset(tokenHash: Buffer, newHash: string, now: Date): Promise<string | null> {
    this.db.takeFailure();
    const { users, access } = this.tables();
    const entry = [...access].find(([, a]) => a.resetTokenHash?.equals(tokenHash) && a.resetExpiresAt! > now);
    if (!entry) return null;
    const [userId, controls] = entry;
    access.set(userId, { ...controls, resetRequiredAt: null, resetTokenHash: null, resetExpiresAt: null });
    users.set(userId, { ...users.get(userId)!, passwordHash: newHash });
    return userId;
  }
}
