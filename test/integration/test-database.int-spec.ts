import { createClient } from '@keyv/redis';
import { Client } from 'pg';
import { createTestDatabase, deleteRedisKeys, TEST_POSTGRES_ADMIN_URL, testRedisPrefix } from '../support/test-database';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

jest.setTimeout(30_000);

async function databaseExists(name: string): Promise<boolean> {
  const client = new Client({ connectionString: TEST_POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('createTestDatabase', () => {
  it('creates a uniquely named, usable database', async () => {
    const [first, second] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    try {
      expect(first.name).toMatch(/^t_[0-9a-f]{16}$/);
      expect(second.name).not.toBe(first.name);
      expect(first.url).toBe(`postgresql://postgres@127.0.0.1:5432/${first.name}`);

      const client = new Client({ connectionString: first.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ db: string; role: string }>('SELECT current_database() AS db, current_user AS role');
        expect(rows).toEqual([{ db: first.name, role: 'postgres' }]);
        await client.query('CREATE TABLE scratch (id int)');
      } finally {
        await client.end();
      }
    } finally {
      await first.drop();
      await second.drop();
    }
  });

  it('drops the database even with connections still open, and only once', async () => {
    const database = await createTestDatabase();
    const leftOpen = new Client({ connectionString: database.url });
    const leftOpenErrors: Error[] = [];
    leftOpen.on('error', (error) => leftOpenErrors.push(error));
    await leftOpen.connect();
    await leftOpen.query('BEGIN');

    await database.drop();
    await database.drop();

    await expect(databaseExists(database.name)).resolves.toBe(false);
    await expect(leftOpen.query('SELECT 1')).rejects.toThrow();
    await leftOpen.end().catch(() => undefined);
  });
});

describe('Redis test prefixes', () => {
  const raw = createClient({ url: REDIS_URL });

  beforeAll(async () => {
    await raw.connect();
  });

  afterAll(() => {
    raw.destroy();
  });

  it('makes a unique prefix with a tame label', () => {
    const prefix = testRedisPrefix('Session cache/{user}*');
    expect(prefix).toMatch(/^t:session-cache-user:[0-9a-f]{12}:$/);
    expect(testRedisPrefix('Session cache/{user}*')).not.toBe(prefix);
    expect(testRedisPrefix('***')).toMatch(/^t:test:[0-9a-f]{12}:$/);
  });

  it('deletes every key under the prefix, and nothing else', async () => {
    const prefix = testRedisPrefix('cleanup');
    const neighbour = `${prefix.slice(0, -1)}x:kept`; // same start, different prefix
    const ours = Array.from({ length: 2_500 }, (_, index) => `${prefix}{user-${index % 7}}:${index}`);
    for (let start = 0; start < ours.length; start += 500) {
      const multi = raw.multi();
      for (const key of ours.slice(start, start + 500)) multi.set(key, '1');
      await multi.exec();
    }
    await raw.set(neighbour, '1');
    try {
      await expect(deleteRedisKeys(REDIS_URL, prefix)).resolves.toBe(2_500);
      await expect(raw.exists(ours.slice(0, 1_000))).resolves.toBe(0);
      await expect(raw.exists(neighbour)).resolves.toBe(1);
      await expect(deleteRedisKeys(REDIS_URL, prefix)).resolves.toBe(0);
    } finally {
      await raw.del(neighbour);
    }
  });

  it('matches the prefix literally, not as a glob', async () => {
    const prefix = `t:glob-[ab]*:${Date.now()}:`;
    const lookalike = prefix.replace('[ab]*', 'a-anything');
    await raw.set(`${prefix}key`, '1');
    await raw.set(`${lookalike}key`, '1');
    try {
      await expect(deleteRedisKeys(REDIS_URL, prefix)).resolves.toBe(1);
      await expect(raw.exists(`${lookalike}key`)).resolves.toBe(1);
    } finally {
      await raw.del([`${prefix}key`, `${lookalike}key`]);
    }
  });

  it('refuses a prefix short enough to reach other keys', async () => {
    await expect(deleteRedisKeys(REDIS_URL, '')).rejects.toThrow(/short prefix/);
    await expect(deleteRedisKeys(REDIS_URL, 't:')).rejects.toThrow(/short prefix/);
  });
});
