import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { EMBEDDED_POSTGRES_POOL_SIZE, EmbeddedPostgres, startEmbeddedPostgres } from '@app/platform';

jest.setTimeout(60_000);

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('startEmbeddedPostgres (in memory)', () => {
  let embedded: EmbeddedPostgres;

  beforeAll(async () => {
    embedded = await startEmbeddedPostgres();
  });

  afterAll(async () => {
    await embedded.close();
  });

  it('serves a postgresql:// URL on 127.0.0.1', () => {
    expect(embedded.url).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
  });

  it('runs DDL, a committed and a rolled-back transaction through pg', async () => {
    await withClient(embedded.url, async (client) => {
      await client.query('CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)');

      await client.query('BEGIN');
      await client.query('INSERT INTO notes VALUES ($1, $2), ($3, $4)', [1, 'kept', 2, 'kept too']);
      await client.query('COMMIT');

      await client.query('BEGIN');
      await client.query('INSERT INTO notes VALUES ($1, $2)', [3, 'rolled back']);
      await client.query('ROLLBACK');

      await expect(client.query('INSERT INTO notes VALUES (1, $1)', ['duplicate'])).rejects.toMatchObject({ code: '23505' });
      const { rows } = await client.query<{ id: number; body: string }>('SELECT id, body FROM notes ORDER BY id');
      expect(rows).toEqual([
        { id: 1, body: 'kept' },
        { id: 2, body: 'kept too' },
      ]);
    });
  });

  it('serves concurrent requests through a pool of the recommended size, in order', async () => {
    const pool = new Pool({ connectionString: embedded.url, max: EMBEDDED_POSTGRES_POOL_SIZE });
    try {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, index) => pool.query<{ n: number; k: number }>(`SELECT $1::int AS n, ${index} AS k`, [index])),
      );
      results.forEach((result, index) => expect(result.rows[0]).toEqual({ n: index, k: index }));
    } finally {
      await pool.end();
    }
  });

  it('survives the pool replacing its connection again and again', async () => {
    // An idle timeout of 1 ms makes pg-pool close and reopen its connection between queries.
    const pool = new Pool({ connectionString: embedded.url, max: EMBEDDED_POSTGRES_POOL_SIZE, idleTimeoutMillis: 1 });
    const failures: string[] = [];
    try {
      for (let round = 0; round < 100; round++) {
        await pool.query('SELECT 1').catch((error: Error) => failures.push(error.message));
        await new Promise((resolve) => setTimeout(resolve, round % 4));
      }
    } finally {
      await pool.end();
    }
    expect(failures).toEqual([]);
  });

  // Characterisation of pglite-socket 0.2.17: if this starts failing, the server has gained real
  // sessions and EMBEDDED_POSTGRES_POOL_SIZE may be worth revisiting.
  it('gives every socket the same session, so an advisory lock excludes nothing', async () => {
    const first = new Client({ connectionString: embedded.url });
    const second = new Client({ connectionString: embedded.url });
    await first.connect();
    await second.connect();
    try {
      const lock = 'SELECT pg_try_advisory_lock(4242) AS locked, pg_backend_pid() AS pid';
      const [a] = (await first.query<{ locked: boolean; pid: number }>(lock)).rows;
      const [b] = (await second.query<{ locked: boolean; pid: number }>(lock)).rows;
      expect(a.locked).toBe(true);
      expect(b.locked).toBe(true);
      expect(b.pid).toBe(a.pid);
      await first.query('SELECT pg_advisory_unlock_all()');
    } finally {
      await first.end();
      await second.end();
    }
  });
});

describe('startEmbeddedPostgres (closing)', () => {
  it('closes cleanly with a client still in a transaction, is idempotent, and frees the port', async () => {
    const embedded = await startEmbeddedPostgres();
    const client = new Client({ connectionString: embedded.url });
    const clientErrors: Error[] = [];
    client.on('error', (error) => clientErrors.push(error));
    await client.connect();
    await client.query('BEGIN');
    await client.query('CREATE TABLE t (id int)');

    await embedded.close();
    await embedded.close();

    await expect(withClient(embedded.url, (other) => other.query('SELECT 1'))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await client.end().catch(() => undefined);
  });
});

describe('startEmbeddedPostgres (persisted in a directory)', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'embedded-postgres-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps committed data across restarts', async () => {
    const first = await startEmbeddedPostgres({ dataDir });
    try {
      await withClient(first.url, async (client) => {
        await client.query('CREATE TABLE kept (value text)');
        await client.query("INSERT INTO kept VALUES ('still here')");
      });
    } finally {
      await first.close();
    }

    const second = await startEmbeddedPostgres({ dataDir });
    try {
      const rows = await withClient(second.url, async (client) => (await client.query('SELECT value FROM kept')).rows);
      expect(rows).toEqual([{ value: 'still here' }]);
    } finally {
      await second.close();
    }
  });
});
