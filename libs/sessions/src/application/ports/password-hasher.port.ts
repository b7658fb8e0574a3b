/**
 * Hashes and verifies passwords. The default is argon2id (Argon2PasswordHasher); a host may
 * provide its own (the `passwordHasher` module option), e.g. one that also verifies the bcrypt
 * hashes of users it brings along and hashes new passwords with argon2id.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** false for a wrong password and for a hash it cannot read; never throws for either. */
  verify(hash: string, password: string): Promise<boolean>;
  /**
   * Whether a hash that just verified should be replaced by `hash(password)`: it was made by an
   * older scheme or with other parameters than the current ones. A successful login then stores
   * the new hash in its own transaction (only if the stored hash is still the one verified).
   */
  needsRehash(hash: string): boolean;
}
export const PASSWORD_HASHER = Symbol('PasswordHasher');
