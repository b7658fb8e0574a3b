import { randomBytes } from 'node:crypto';
import { createClient } from '@keyv/redis';
import { Client } from 'pg';
import { expectEventually } from './eventually';

/**
 * Each test file gets its own PostgreSQL database and its own Redis key prefix, so files can
 * run in parallel against the shared local servers and clean up exactly what they made.
 */

/**
 * The local server trusts connections from 127.0.0.1 (pg_hba has no IPv6 line, so not
 * "localhost"); `postgres` is the role that may create databases.
 */
export const TEST_POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** `t_` and 16 hex digits: a valid identifier that needs no quoting. */
  readonly name: string;
  readonly url: string;
  /** Ends the database's connections and drops it; idempotent. */
  drop(): Promise<void>;
}

async function asAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `t_${randomBytes(8).toString('hex')}`;
  await asAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: url.toString(),
    drop() {
      // FORCE (PostgreSQL 13+) terminates the connections a test left open.
      dropped ??= asAdmin(async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
      return dropped;
    },
  };
}

/** `t:<label>:<random>:`; the label is reduced to [a-z0-9-] so it can never hold a glob or a hash tag. */
export function testRedisPrefix(label: string): string {
  const safeLabel =
    label
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'test';
  return `t:${safeLabel}:${randomBytes(6).toString('hex')}:`;
}

/**
 * Deletes every key under `prefix` (SCAN + UNLINK), for a test file's clean-up; returns how many.
 * Refuses a prefix short enough to reach keys that are not a test's own.
 */
export async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  if (prefix.length < 8) throw new Error(`Refusing to delete Redis keys under the short prefix "${prefix}"`);
  const client = createClient({ url });
  await client.connect();
  let deleted = 0;
  try {
    for await (const keys of client.scanIterator({ MATCH: `${escapeGlob(prefix)}*`, COUNT: 1_000 })) {
      if (keys.length > 0) deleted += await client.unlink(keys);
    }
  } finally {
    client.destroy();
  }
  return deleted;
}

/** The part of a node-redis client expireRedisKeysNow uses. */
interface ExpiringClient {
  pExpire(key: string, ms: number): Promise<unknown>;
  exists(keys: string[]): Promise<number>;
}

/**
 * Makes Redis expire the keys now (a TTL of 1 ms) and waits, bounded, until they are gone: a test
 * sees what happens when a window or an entry ends without sleeping it out.
 */
export async function expireRedisKeysNow(client: ExpiringClient, keys: readonly string[], timeoutMs = 5_000): Promise<void> {
  for (const key of keys) await client.pExpire(key, 1);
  await expectEventually(
    async () => {
      const left = await client.exists([...keys]);
      if (left > 0) throw new Error(`Redis did not expire ${keys.join(', ')} within ${timeoutMs} ms (${left} still there)`);
    },
    { timeoutMs, intervalMs: 0 },
  );
}

/** SCAN's MATCH is a glob: a prefix is matched literally only with its special characters escaped. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
