import * as argon2 from 'argon2';
import { PasswordHasher } from '../../application/ports/password-hasher.port';
import { PasswordHashingOptions } from '../../sessions.options';

/** argon2id with the configured cost; the parameters are stored in each hash, so they can change later. */
export class Argon2PasswordHasher implements PasswordHasher {
  constructor(private readonly options: PasswordHashingOptions) {}

  hash(password: string): Promise<string> {
    return argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: this.options.memoryCostKiB,
      timeCost: this.options.timeCost,
      parallelism: this.options.parallelism,
    });
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      // A malformed stored hash matches nothing.
      return false;
    }
  }
}
