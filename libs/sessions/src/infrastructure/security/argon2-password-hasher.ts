import * as argon2 from 'argon2';
import { PasswordHasher } from '../../application/ports/password-hasher.port';
import { normalizePassword } from '../../domain/password-policy';
import { PasswordHashingOptions } from '../../sessions.options';

/**
 * argon2id with the configured cost; the parameters are stored in each hash, so they can change
 * later: a hash with other parameters (or of another argon2 variant) needs a rehash, which the
 * next successful login does. Passwords are hashed in their NFKC form, so every spelling of a passphrase (NFD from one
 * keyboard, NFC from another, full-width) signs in.
 */
export class Argon2PasswordHasher implements PasswordHasher {
  constructor(private readonly options: PasswordHashingOptions) {}

  hash(password: string): Promise<string> {
    return argon2.hash(normalizePassword(password), {
      type: argon2.argon2id,
      memoryCost: this.options.memoryCostKiB,
      timeCost: this.options.timeCost,
      parallelism: this.options.parallelism,
    });
  }

  needsRehash(hash: string): boolean {
    if (!hash.startsWith('$argon2id$')) return true;
    try {
      return argon2.needsRehash(hash, {
        memoryCost: this.options.memoryCostKiB,
        timeCost: this.options.timeCost,
        parallelism: this.options.parallelism,
      });
    } catch {
      // Not a PHC string argon2 can read: whatever verified it, it is not the current scheme.
      return true;
    }
  }

  async verify(hash: string, password: string): Promise<boolean> {
    const normalized = normalizePassword(password);
    try {
      if (await argon2.verify(hash, normalized)) return true;
      // Hashes made before passwords were normalized hold the password as it was typed.
      return normalized !== password && (await argon2.verify(hash, password));
    } catch {
      // A malformed stored hash matches nothing.
      return false;
    }
  }
}
