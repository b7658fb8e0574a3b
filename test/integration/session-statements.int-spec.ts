import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { runSessionsMigrations } from '@app/sessions';
import {
  consumeRefreshTokenSql,
  retireLiveRefreshTokensSql,
  revokeAllSessionsSql,
  revokeSessionByRefreshTokenSql,
  revokeSessionSql,
  touchActiveSessionSql,
} from '../../libs/sessions/src/infrastructure/typeorm/session-records.sql';
import { sql, TEST_SESSIONS_SCHEMA } from '../support/sql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(60_000);

/**
 * The store's revocation and rotation statements themselves, run as the store sends them against
 * crafted rows: which rows each one touches, and which it must leave alone.
 */

const S = TEST_SESSIONS_SCHEMA;
const hash = (token: string) => createHash('sha256').update(token).digest();

const ALICE = '00000000-0000-7000-8000-00000000000a';
const BOB = '00000000-0000-7000-8000-00000000000b';
/** Alice's sessions: live with a rotated chain, live with a retired fork, revoked, expired, live with an expired token. Bob's: one live. */
const S1 = '00000000-0000-7000-9000-000000000001';
const S2 = '00000000-0000-7000-9000-000000000002';
const S3 = '00000000-0000-7000-9000-000000000003';
const S4 = '00000000-0000-7000-9000-000000000004';
const S5 = '00000000-0000-7000-9000-000000000005';
const SB = '00000000-0000-7000-9000-00000000000b';

const EARLIER = new Date('2026-01-01T00:00:00Z');
const NOW = new Date('2026-06-01T12:00:00Z');

interface TokenRow extends Record<string, unknown> {
  name: string;
  session_id: string;
  revoked: boolean;
  rotated: boolean;
}

interface SessionRow extends Record<string, unknown> {
  id: string;
  revoked_at: Date | null;
  revoked_reason: string | null;
  revoked_by: string | null;
}

describe('the session statements against PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  const clients: Client[] = [];

  /** A connection of the library's kind: default search_path, so only the statements' own schema names count. */
  async function connect(): Promise<Client> {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    clients.push(client);
    return client;
  }

  async function run<T extends Record<string, unknown>>(text: string, params: unknown[]): Promise<T[]> {
    const client = await connect();
    return (await client.query<T>(text, params)).rows;
  }

  const tokens = async () =>
    sql<TokenRow>(
      database.url,
      `SELECT name, session_id, revoked_at IS NOT NULL AS revoked, rotated_at IS NOT NULL AS rotated FROM refresh_tokens t JOIN token_names n ON n.id = t.id ORDER BY name`,
    );
  const sessions = async () => sql<SessionRow>(database.url, 'SELECT id, revoked_at, revoked_reason, revoked_by FROM sessions ORDER BY id');
  const liveSessions = async () => (await sessions()).filter((row) => row.revoked_at === null).map((row) => row.id);
  const liveTokens = async () => (await tokens()).filter((row) => !row.revoked).map((row) => row.name);

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    await runSessionsMigrations(dataSource);
    await dataSource.destroy();
  });

  beforeEach(async () => {
    // Fresh rows for each case; a side table names the tokens for the assertions.
    await sql(
      database.url,
      `TRUNCATE users, sessions, refresh_tokens CASCADE;
       DROP TABLE IF EXISTS public.token_names;
       CREATE TABLE public.token_names (id uuid PRIMARY KEY, name text NOT NULL);
       INSERT INTO users (id, email, password_hash, role, created_at) VALUES
         ('${ALICE}', 'alice@example.com', 'x', 'user', $1), ('${BOB}', 'bob@example.com', 'x', 'user', $1);
       INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, ip_address) VALUES
         ('${S1}', '${ALICE}', $1, $1, $2::timestamptz + interval '1 day', '192.0.2.1'),
         ('${S2}', '${ALICE}', $1, $1, $2::timestamptz + interval '1 day', NULL),
         ('${S4}', '${ALICE}', $1, $1, $2::timestamptz - interval '1 second', NULL),
         ('${S5}', '${ALICE}', $1, $1, $2::timestamptz + interval '1 day', NULL),
         ('${SB}', '${BOB}', $1, $1, $2::timestamptz + interval '1 day', NULL);
       INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, revoked_at, revoked_reason, revoked_by) VALUES
         ('${S3}', '${ALICE}', $1, $1, $2::timestamptz + interval '1 day', $1, 'earlier', '${ALICE}');`
        .replace(/\$1/g, `'${EARLIER.toISOString()}'`)
        .replace(/\$2/g, `'${NOW.toISOString()}'`),
    );
    const token = async (name: string, sessionId: string, userId: string, state: 'live' | 'rotated' | 'retired' | 'revoked', expires = '1 day') => {
      const id = (await sql<{ id: string }>(database.url, 'SELECT gen_random_uuid() AS id'))[0].id;
      await sql(
        database.url,
        `INSERT INTO refresh_tokens (id, session_id, user_id, token_hash, issued_at, expires_at, revoked_at, rotated_at)
         VALUES ($1, $2, $3, $4, $5, $6::timestamptz + $7::interval, $8, $9)`,
        [id, sessionId, userId, hash(name), EARLIER, NOW, expires, state === 'live' ? null : EARLIER, state === 'rotated' ? EARLIER : null],
      );
      await sql(database.url, 'INSERT INTO public.token_names (id, name) VALUES ($1, $2)', [id, name]);
    };
    await token('t1-old', S1, ALICE, 'rotated');
    await token('t1', S1, ALICE, 'live');
    await token('t2', S2, ALICE, 'live');
    await token('t2-fork', S2, ALICE, 'retired');
    await token('t3', S3, ALICE, 'revoked');
    await token('t4', S4, ALICE, 'live');
    await token('t5-expired', S5, ALICE, 'live', '-1 second');
    await token('tb', SB, BOB, 'live');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.end().catch(() => undefined)));
  });

  afterAll(async () => {
    await database?.drop();
  });

  describe('revokeSessionByRefreshTokenSql (logout)', () => {
    const logout = (token: string, userId: string | null, who: string | null = null) =>
      run<{ id: string; user_id: string }>(revokeSessionByRefreshTokenSql(S), [hash(token), userId, NOW, 'logout', who]);

    it('ends the session of a live token and every token of that session, nothing else', async () => {
      await expect(logout('t1', null)).resolves.toEqual([{ id: S1, user_id: ALICE }]);
      expect(await liveSessions()).toEqual([S2, S4, S5, SB]);
      expect(await liveTokens()).toEqual(['t2', 't4', 't5-expired', 'tb']);
      const [s1] = (await sessions()).filter((row) => row.id === S1);
      // Who: the session's own user when no actor is given.
      expect(s1).toMatchObject({ revoked_at: NOW, revoked_reason: 'logout', revoked_by: ALICE });
      // The token rotated away earlier keeps its own revocation time.
      expect(await sql(database.url, `SELECT revoked_at FROM refresh_tokens t JOIN token_names n ON n.id = t.id WHERE n.name = 't1-old'`)).toEqual([
        { revoked_at: EARLIER },
      ]);
    });

    it('ends a live session from a token rotated away from it (an older token of the same chain)', async () => {
      await expect(logout('t1-old', null)).resolves.toEqual([{ id: S1, user_id: ALICE }]);
      expect(await liveSessions()).toEqual([S2, S4, S5, SB]);
    });

    it('does nothing for a token retired without rotation, a revoked session, an unknown token', async () => {
      await expect(logout('t2-fork', null)).resolves.toEqual([]);
      await expect(logout('t3', null)).resolves.toEqual([]);
      await expect(logout('never-issued', null)).resolves.toEqual([]);
      expect(await liveSessions()).toEqual([S1, S2, S4, S5, SB]);
      expect(await sql(database.url, `SELECT revoked_reason FROM sessions WHERE id = '${S3}'`)).toEqual([{ revoked_reason: 'earlier' }]);
    });

    it('refuses a token of another user, and names the actor when one is given', async () => {
      await expect(logout('t2', BOB)).resolves.toEqual([]);
      expect(await liveSessions()).toEqual([S1, S2, S4, S5, SB]);
      await expect(logout('t2', ALICE, BOB)).resolves.toEqual([{ id: S2, user_id: ALICE }]);
      expect((await sessions()).find((row) => row.id === S2)).toMatchObject({ revoked_by: BOB });
      expect(await liveTokens()).toEqual(['t1', 't4', 't5-expired', 'tb']);
    });
  });

  describe('revokeSessionSql (one session by id)', () => {
    const revoke = (userId: string | null, sessionId: string) => run<{ user_id: string }>(revokeSessionSql(S), [userId, sessionId, NOW, 'admin_revoked', BOB]);

    it('ends the session and its tokens, answering its user', async () => {
      await expect(revoke(null, S2)).resolves.toEqual([{ user_id: ALICE }]);
      expect(await liveSessions()).toEqual([S1, S4, S5, SB]);
      expect(await liveTokens()).toEqual(['t1', 't4', 't5-expired', 'tb']);
    });

    it('does nothing for another user’s session, a revoked one, an expired one', async () => {
      await expect(revoke(BOB, S2)).resolves.toEqual([]);
      await expect(revoke(ALICE, S3)).resolves.toEqual([]);
      await expect(revoke(ALICE, S4)).resolves.toEqual([]);
      expect(await liveSessions()).toEqual([S1, S2, S4, S5, SB]);
      expect(await liveTokens()).toEqual(['t1', 't2', 't4', 't5-expired', 'tb']);
    });
  });

  describe('revokeAllSessionsSql (revoke-all)', () => {
    const revokeAll = (userId: string, except: string | null) =>
      run<{ id: string }>(revokeAllSessionsSql(S), [userId, except, NOW, 'user_revoked_all', userId]);

    it('ends every live session of the user and their tokens, leaving revoked and expired ones as they were', async () => {
      const ended = await revokeAll(ALICE, null);
      expect(ended.map((row) => row.id).sort()).toEqual([S1, S2, S5]);
      expect(await liveSessions()).toEqual([S4, SB]);
      expect(await liveTokens()).toEqual(['t4', 'tb']);
      expect((await sessions()).find((row) => row.id === S3)).toMatchObject({ revoked_at: EARLIER, revoked_reason: 'earlier' });
    });

    it('spares the session it is told to, and its tokens', async () => {
      expect((await revokeAll(ALICE, S2)).map((row) => row.id).sort()).toEqual([S1, S5]);
      expect(await liveSessions()).toEqual([S2, S4, SB]);
      expect(await liveTokens()).toEqual(['t2', 't4', 'tb']);
    });

    it('touches no other user', async () => {
      await expect(revokeAll(BOB, null)).resolves.toEqual([{ id: SB }]);
      expect(await liveSessions()).toEqual([S1, S2, S4, S5]);
      await expect(revokeAll(BOB, null)).resolves.toEqual([]);
    });
  });

  describe('consumeRefreshTokenSql (rotation) and its neighbours', () => {
    const consume = (token: string, at = NOW) =>
      run<{ id: string; session_id: string; user_id: string }>(consumeRefreshTokenSql(S), [hash(token), at, '198.51.100.7', 'agent/2']);

    it('rotates a live token of a live session once, recording who, and touches the session', async () => {
      const [rotated] = await consume('t1');
      expect(rotated).toMatchObject({ session_id: S1, user_id: ALICE });
      await expect(consume('t1')).resolves.toEqual([]);
      expect((await tokens()).find((row) => row.name === 't1')).toMatchObject({ revoked: true, rotated: true });
      expect(await sql(database.url, `SELECT rotated_ip_address, rotated_user_agent FROM refresh_tokens WHERE id = $1`, [rotated.id])).toEqual([
        { rotated_ip_address: '198.51.100.7', rotated_user_agent: 'agent/2' },
      ]);
      expect(await sql(database.url, `SELECT last_seen_at, ip_address, user_agent FROM sessions WHERE id = '${S1}'`)).toEqual([
        { last_seen_at: NOW, ip_address: '198.51.100.7', user_agent: 'agent/2' },
      ]);
    });

    it('refuses, touching nothing, a token rotated away, of an expired session, expired itself, or of a revoked session', async () => {
      for (const token of ['t1-old', 't4', 't5-expired', 't3', 't2-fork']) await expect(consume(token)).resolves.toEqual([]);
      expect(await liveTokens()).toEqual(['t1', 't2', 't4', 't5-expired', 'tb']);
      expect(await sql(database.url, `SELECT count(*)::int AS touched FROM sessions WHERE last_seen_at <> $1`, [EARLIER])).toEqual([{ touched: 0 }]);
    });

    it('retireLiveRefreshTokensSql rotates away every live token of one session; touchActiveSessionSql answers only for a live one', async () => {
      await expect(run(retireLiveRefreshTokensSql(S), [S2, NOW, null, null]).then((rows) => rows.length)).resolves.toBe(1);
      expect(await liveTokens()).toEqual(['t1', 't4', 't5-expired', 'tb']);
      expect((await tokens()).find((row) => row.name === 't2')).toMatchObject({ revoked: true, rotated: true });
      await expect(run(touchActiveSessionSql(S), [S2, NOW])).resolves.toEqual([{ id: S2 }]);
      await expect(run(touchActiveSessionSql(S), [S3, NOW])).resolves.toEqual([]);
      await expect(run(touchActiveSessionSql(S), [S4, NOW])).resolves.toEqual([]);
    });
  });

  describe('when two statements race for one session', () => {
    /** Whether the backend `pid` is waiting for a row lock. */
    const waitingForLock = async (pid: number) =>
      (await sql<{ waiting: boolean }>(database.url, `SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE pid = $1`, [pid]))[0]?.waiting ===
      true;

    async function raced(first: { text: string; params: unknown[] }, second: { text: string; params: unknown[] }) {
      const [a, b] = [await connect(), await connect()];
      const pidOfB = (await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      await a.query('BEGIN');
      await b.query('BEGIN');
      const firstRows = (await a.query(first.text, first.params)).rows;
      // The second blocks on the row the first changed, until the first commits.
      const secondDone = b.query(second.text, second.params);
      const deadline = Date.now() + 5_000;
      while (!(await waitingForLock(pidOfB))) {
        if (Date.now() > deadline) throw new Error('the second statement never waited for the first');
      }
      await a.query('COMMIT');
      const secondRows = (await secondDone).rows;
      await b.query('COMMIT');
      return { firstRows, secondRows };
    }

    it('a logout racing a revoke-all: the revoke-all wins, the logout ends nothing', async () => {
      const { firstRows, secondRows } = await raced(
        { text: revokeAllSessionsSql(S), params: [ALICE, null, NOW, 'user_revoked_all', ALICE] },
        { text: revokeSessionByRefreshTokenSql(S), params: [hash('t1'), null, NOW, 'logout', null] },
      );
      expect(firstRows.map((row) => row.id).sort()).toEqual([S1, S2, S5]);
      expect(secondRows).toEqual([]);
      expect((await sessions()).find((row) => row.id === S1)).toMatchObject({ revoked_reason: 'user_revoked_all' });
    });

    it('two logouts with one token: one ends the session, the other nothing', async () => {
      const logout = { text: revokeSessionByRefreshTokenSql(S), params: [hash('t1'), null, NOW, 'logout', null] };
      const { firstRows, secondRows } = await raced(logout, logout);
      expect(firstRows).toEqual([{ id: S1, user_id: ALICE }]);
      expect(secondRows).toEqual([]);
    });

    it('a refresh racing a logout: the logout wins, the token is not rotated into a dead session', async () => {
      const { firstRows, secondRows } = await raced(
        { text: revokeSessionByRefreshTokenSql(S), params: [hash('t1'), null, NOW, 'logout', null] },
        { text: consumeRefreshTokenSql(S), params: [hash('t1'), NOW, null, null] },
      );
      expect(firstRows).toEqual([{ id: S1, user_id: ALICE }]);
      expect(secondRows).toEqual([]);
      expect((await tokens()).find((row) => row.name === 't1')).toMatchObject({ revoked: true, rotated: false });
    });

    it('a revoke-all racing a refresh that came first: the refresh rotates, then the revoke-all ends the session and the new chain', async () => {
      const { firstRows, secondRows } = await raced(
        { text: consumeRefreshTokenSql(S), params: [hash('t1'), NOW, null, null] },
        { text: revokeAllSessionsSql(S), params: [ALICE, null, NOW, 'user_revoked_all', ALICE] },
      );
      expect(firstRows).toHaveLength(1);
      expect(secondRows.map((row) => row.id).sort()).toEqual([S1, S2, S5]);
      expect(await liveSessions()).toEqual([S4, SB]);
    });
  });
});
