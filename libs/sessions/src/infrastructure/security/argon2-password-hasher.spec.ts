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
});
