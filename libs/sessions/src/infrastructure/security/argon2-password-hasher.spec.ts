import * as argon2 from 'argon2';
import { Argon2PasswordHasher } from './argon2-password-hasher';

const hasher = new Argon2PasswordHasher({ memoryCostKiB: 1024, timeCost: 1, parallelism: 1 });
const nfc = 'crème brûlée à volonté';
const nfd = nfc.normalize('NFD');

describe('Argon2PasswordHasher', () => {
  it('hashes the NFKC form, so every spelling of a passphrase verifies', async () => {
    expect(nfd).not.toBe(nfc);
    const hash = await hasher.hash(nfd);
    await expect(hasher.verify(hash, nfc)).resolves.toBe(true);
    await expect(hasher.verify(hash, nfd)).resolves.toBe(true);
    await expect(hasher.verify(await hasher.hash('ｐａｓｓ ｐｈｒａｓｅ ｏｎｅ'), 'pass phrase one')).resolves.toBe(true);
    await expect(hasher.verify(hash, 'creme brulee a volonte')).resolves.toBe(false);
  });

  it('still verifies a hash made before normalization, from the password as it was typed', async () => {
    const legacy = await argon2.hash(nfd, { type: argon2.argon2id, memoryCost: 1024, timeCost: 1, parallelism: 1 });
    await expect(hasher.verify(legacy, nfd)).resolves.toBe(true);
  });

  it('matches nothing against a malformed stored hash', async () => {
    await expect(hasher.verify('not a hash', nfc)).resolves.toBe(false);
  });

  describe('needsRehash', () => {
    const cost = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

    it('is false for a hash it made with the configured parameters', async () => {
      expect(hasher.needsRehash(await hasher.hash(nfc))).toBe(false);
    });

    it.each([
      ['more memory', { ...cost, memoryCost: 2048 }],
      ['another time cost', { ...cost, timeCost: 2 }],
      ['another parallelism', { ...cost, parallelism: 2 }],
    ])('is true for an argon2id hash with %s', async (_name, options) => {
      expect(hasher.needsRehash(await argon2.hash(nfc, { type: argon2.argon2id, ...options }))).toBe(true);
    });

    it.each([
      ['argon2i', argon2.argon2i],
      ['argon2d', argon2.argon2d],
    ] as const)('is true for an %s hash with the same parameters', async (_name, type) => {
      const other = await argon2.hash(nfc, { type, ...cost });
      await expect(hasher.verify(other, nfc)).resolves.toBe(true);
      expect(hasher.needsRehash(other)).toBe(true);
    });

    it('is true for a hash of another scheme and for one it cannot read', () => {
      expect(hasher.needsRehash('$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy')).toBe(true);
      expect(hasher.needsRehash('$argon2id$v=19$garbage')).toBe(true);
      expect(hasher.needsRehash('')).toBe(true);
    });
  });
});
