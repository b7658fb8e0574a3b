import { UserRecord, UserRole } from '../../domain/records';

export interface NewUser {
  readonly id: string;
  readonly email: string;
  readonly passwordHash: string;
  readonly role: UserRole;
  readonly createdAt: Date;
}

/**
 * current: the hash verified is still the password and the account may sign in; changed: it was
 * replaced meanwhile; disabled / reset_required: an administrator disabled the account or
 * required a password reset.
 */
export type CredentialCheck = 'current' | 'changed' | 'disabled' | 'reset_required' | 'user_not_found';

/** What insertFirstAdmin found: it inserts only while no admin exists and the email is free. */
export type FirstAdminInsert =
  { readonly kind: 'inserted' } | { readonly kind: 'admin_exists' } | { readonly kind: 'email_taken'; readonly userId: string; readonly role: UserRole };

export type RoleChange =
  | { readonly kind: 'set'; readonly previousRole: UserRole }
  | { readonly kind: 'user_not_found' }
  /** The user is the only administrator and would be demoted. */
  | { readonly kind: 'last_admin' };

/** `shared`: logins of one user run side by side; `serialized`: they take turns (see lockVerifiedCredentials). */
export type CredentialLock = 'shared' | 'serialized';

export type UserStatus = 'active' | 'disabled' | 'locked';
export const USER_STATUSES: readonly UserStatus[] = ['active', 'disabled', 'locked'];

/** A user as the console lists it: the access controls, never the password hash. */
export interface UserListing {
  readonly id: string;
  readonly email: string;
  readonly role: UserRole;
  readonly createdAt: Date;
  readonly disabled: boolean;
  readonly passwordResetRequired: boolean;
  /** The end of the latest login lockout of the email in force (any network), or null. */
  readonly lockedUntil: Date | null;
}

/** Where a page of users starts: after this (email, id), in the order of the listing. */
export interface UserPosition {
  readonly email: string;
  readonly id: string;
}

/**
 * Users ordered by (email, id), email compared byte by byte (code point order: stored emails
 * are normalized, so this is also their case-insensitive order).
 */
export interface UserSearch {
  /** Exactly this account. */
  readonly id?: string;
  /** Emails that start with it, taken literally (no wildcard); compared as stored, so normalize it first. */
  readonly emailPrefix?: string;
  /** disabled wins over locked: a disabled account with a lockout is disabled, not locked. */
  readonly status?: UserStatus;
  readonly after?: UserPosition;
  readonly limit: number;
  /** When a lockout counts as in force. */
  readonly now: Date;
}

/**
 * The user accounts, read. Inside an open unit of work every read goes through its transaction
 * (and sees its writes); outside one, each read is on its own.
 */
export interface UserAccounts {
  findById(userId: string): Promise<UserRecord | null>;
  findByEmail(email: string): Promise<UserRecord | null>;
  /** Whether the user exists (a revocation of an unknown user is refused). */
  exists(userId: string): Promise<boolean>;
  adminExists(): Promise<boolean>;
  search(search: UserSearch): Promise<UserListing[]>;
}
export const USER_ACCOUNTS = Symbol('UserAccounts');

/** The user accounts, as a unit of work changes them (`tx.users`). */
export interface UserAccountWrites extends UserAccounts {
  /** false when the email is already taken. */
  insert(user: NewUser): Promise<boolean>;
  /**
   * Inserts an administrator only if no administrator exists and no account has the email;
   * concurrent calls are serialized. For BootstrapAdmin only.
   */
  insertFirstAdmin(user: NewUser): Promise<FirstAdminInsert>;
  /**
   * Sets a user's role, refusing to demote the last administrator (the admin rows are locked,
   * so two concurrent demotions cannot both pass that check). For ChangeUserRole only.
   */
  setRole(userId: string, role: UserRole): Promise<RoleChange>;
  /**
   * Locks the user row (shared, until commit) and says whether `verifiedHash` is still its
   * password hash. A login calls it in the transaction that opens its session: a password change
   * (which locks the row exclusively) then either waits for the login to commit, and its
   * revoke-all ends the new session, or has committed first, and the login sees the new hash.
   * `serialized` (a login under the session cap) locks it so that the user's logins also wait
   * for each other, and each counts the sessions of the one before.
   */
  lockVerifiedCredentials(userId: string, verifiedHash: string, lock?: CredentialLock): Promise<CredentialCheck>;
  /**
   * Sets a new hash only if the stored one is still `expectedHash` (the one the caller verified),
   * locking the row until commit; false otherwise. Of two changes verified against one hash, one wins.
   */
  replacePasswordHash(userId: string, expectedHash: string, newHash: string): Promise<boolean>;
  /**
   * Sets (a date) or clears (null) users.disabled_at, locking the row until commit, so a login
   * in flight either commits first (and the revoke-all that follows ends its session) or sees
   * the account disabled. false when there is no such user. A disabled account keeps its first date.
   */
  setDisabled(userId: string, disabledAt: Date | null): Promise<boolean>;
  /**
   * Marks the current password unusable and stores a reset token's hash (replacing any earlier
   * one), locking the row like setDisabled. false when there is no such user.
   */
  requirePasswordReset(userId: string, tokenHash: Buffer, at: Date, expiresAt: Date): Promise<boolean>;
  /**
   * Redeems an unexpired reset token in one statement: sets the new hash, clears the requirement
   * and the token (so it works once). The user's id, or null for an unknown, used or expired token.
   */
  redeemPasswordReset(tokenHash: Buffer, newHash: string, now: Date): Promise<string | null>;
}
