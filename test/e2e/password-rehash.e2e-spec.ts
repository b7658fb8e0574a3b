import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { Argon2PasswordHasher, type PasswordHasher } from '@app/sessions';
import { register, uniqueEmail } from '../support/api';
import { sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

const COST = { memoryCostKiB: 1024, timeCost: 1, parallelism: 1 };

/** The "legacy" scheme a host brings its users from: `$scrypt$<salt>$<key>`, base64url. */
function legacyHash(password: string): string {
  const salt = randomBytes(16);
  return `$scrypt$${salt.toString('base64url')}$${scryptSync(password, salt, 32).toString('base64url')}`;
}

function verifyLegacy(hash: string, password: string): boolean {
  const [, , salt, key] = hash.split('$');
  const expected = Buffer.from(key, 'base64url');
  return timingSafeEqual(scryptSync(password, Buffer.from(salt, 'base64url'), expected.length), expected);
}

/**
 * A host's hasher during a migration, as docs/overrides.md describes it: reads the legacy hashes,
 * hashes with argon2id, and wants every legacy hash replaced. `gate` holds hash() calls until
 * that many are waiting, to start concurrent logins' transactions together.
 */
class MigratingHasher implements PasswordHasher {
  private readonly argon2 = new Argon2PasswordHasher(COST);
  private waiting: Array<() => void> = [];
  gate = 0;

  async hash(password: string): Promise<string> {
    if (this.gate > 0) {
      await new Promise<void>((release) => {
        this.waiting.push(release);
        if (this.waiting.length >= this.gate) {
          this.waiting.forEach((waiter) => waiter());
          this.waiting = [];
          this.gate = 0;
        }
      });
    }
    return this.argon2.hash(password);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    return hash.startsWith('$scrypt$') ? verifyLegacy(hash, password) : this.argon2.verify(hash, password);
  }

  needsRehash(hash: string): boolean {
    return hash.startsWith('$scrypt$') || this.argon2.needsRehash(hash);
  }
}

describe('rehash on login with a host-provided hasher (real PostgreSQL)', () => {
  const hasher = new MigratingHasher();
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'password-rehash', sessions: { passwordHasher: hasher } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  /** A user whose stored hash is the legacy one, as if imported from the old system. */
  async function legacyUser(password = 'correct horse battery staple'): Promise<{ userId: string; email: string; password: string; hash: string }> {
    const { userId, email } = await register(stack, uniqueEmail('legacy'), password);
    const hash = legacyHash(password);
    await sql(stack.databaseUrl, `UPDATE users SET password_hash = $2 WHERE id = $1`, [userId, hash]);
    return { userId, email, password, hash };
  }

  const storedHash = async (userId: string) =>
    (await sql<{ password_hash: string }>(stack.databaseUrl, `SELECT password_hash FROM users WHERE id = $1`, [userId]))[0].password_hash;
  const loginDetails = async (userId: string, outcome: 'succeeded' | 'failed') =>
    (
      await sql<{ details: Record<string, unknown> }>(
        stack.databaseUrl,
        `SELECT details FROM audit_entries WHERE action = 'user.login' AND outcome = $2 AND user_id = $1 ORDER BY event_id`,
        [userId, outcome],
      )
    ).map((row) => row.details);
  const login = (email: string, password: string) => stack.http().post('/auth/login').send({ email, password });

  it('replaces a legacy hash by argon2id on the first login, audited as passwordRehashed; the next login does not rehash', async () => {
    const user = await legacyUser();
    await login(user.email, user.password).expect(200);
    const rehashed = await storedHash(user.userId);
    expect(rehashed).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);
    expect(hasher.needsRehash(rehashed)).toBe(false);
    await expect(hasher.verify(rehashed, user.password)).resolves.toBe(true);
    expect(await loginDetails(user.userId, 'succeeded')).toEqual([{ passwordRehashed: true }]);

    await login(user.email, user.password).expect(200);
    expect(await storedHash(user.userId)).toBe(rehashed);
    expect(await loginDetails(user.userId, 'succeeded')).toEqual([{ passwordRehashed: true }, {}]);
  });

  it('never rehashes on a wrong password', async () => {
    const user = await legacyUser();
    await login(user.email, 'not the password at all').expect(401);
    expect(await storedHash(user.userId)).toBe(user.hash);
    await stack.settleAudit();
    const failed = await loginDetails(user.userId, 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).not.toHaveProperty('passwordRehashed');
  });

  it('signs both in when two logins rehash the same legacy hash at once: one stores its hash, the other finds it and does not refuse', async () => {
    const user = await legacyUser();
    hasher.gate = 2;
    const answers = await Promise.all([login(user.email, user.password), login(user.email, user.password)]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    const rehashed = await storedHash(user.userId);
    expect(rehashed).toMatch(/^\$argon2id\$/);
    const succeeded = await loginDetails(user.userId, 'succeeded');
    expect(succeeded).toHaveLength(2);
    expect(succeeded.filter((details) => details.passwordRehashed === true)).toHaveLength(1);
  });
});
