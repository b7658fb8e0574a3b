import { call, pool } from './http-load';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { BENCH_SCHEMA } from './support';

/**
 * Bulk rows for the benchmarks, written with generate_series in a few statements. Ids are
 * ascending like the service's uuid v7 ids (so index inserts land where real ones would), and
 * every session gets one live refresh token whose plain text is known:
 * `<11-character tag><session id without dashes>` (43 base64url characters, the length of a real
 * one), stored as its SHA-256 exactly as the service stores tokens.
 * Ids are numbered from 1: use one seeder per database.
 */
/** The password of every seeded bench user. */
export const BENCH_PASSWORD = 'correct horse battery staple';

export class Seeder {
  private nextUser = 1;
  private nextSession = 1;
  /** Makes this seeder's tokens and emails its own. */
  private readonly tag = `b${randomBytes(5).toString('hex')}`;

  /** `"<schema>"`, before every table name. */
  private readonly s: string;

  constructor(
    private readonly client: Client,
    schema: string,
  ) {
    this.s = `"${schema}"`;
  }

  static userId(n: number): string {
    return `00000000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
  }

  static sessionId(n: number): string {
    return `00000000-0000-7000-9000-${n.toString(16).padStart(12, '0')}`;
  }

  /** The refresh token of a session this seeder made. */
  tokenOf(sessionId: string): string {
    return `${this.tag}${sessionId.replace(/-/g, '')}`;
  }

  /** Users whose password hash is `passwordHash` (a real argon2id hash when they must log in). */
  async users(count: number, passwordHash = 'x'): Promise<string[]> {
    const first = this.nextUser;
    this.nextUser += count;
    await this.client.query(
      `INSERT INTO ${this.s}.users (id, email, password_hash, role, created_at)
         SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(u), 12, '0'))::uuid, 'bench-' || u || '-' || $3 || '@example.com', $4, 'user', now()
           FROM generate_series($1::bigint, $2::bigint) u`,
      [first, first + count - 1, this.tag.toLowerCase(), passwordHash],
    );
    return Array.from({ length: count }, (_, i) => Seeder.userId(first + i));
  }

  /** `perUser` active sessions for each user, each with one live refresh token; returns the session ids in order. */
  async sessions(userIds: readonly string[], perUser: number): Promise<string[]> {
    if (userIds.length === 0 || perUser === 0) return [];
    const first = this.nextSession;
    this.nextSession += userIds.length * perUser;
    await this.client.query(
      `WITH s AS (
         INSERT INTO ${this.s}.sessions (id, user_id, created_at, last_seen_at, expires_at)
           SELECT ('00000000-0000-7000-9000-' || lpad(to_hex($1::bigint + (u.ord - 1) * $3::bigint + i - 1), 12, '0'))::uuid,
                  u.id, now(), now(), now() + interval '30 days'
             FROM unnest($2::uuid[]) WITH ORDINALITY AS u(id, ord), generate_series(1, $3::bigint) i
            ORDER BY u.ord, i
         RETURNING id, user_id, expires_at)
       INSERT INTO ${this.s}.refresh_tokens (id, session_id, user_id, token_hash, issued_at, expires_at)
         SELECT ('00000000-0000-7000-a000-' || right(replace(s.id::text, '-', ''), 12))::uuid, s.id, s.user_id,
                sha256(convert_to($4 || replace(s.id::text, '-', ''), 'UTF8')), now(), s.expires_at
           FROM s ORDER BY s.id`,
      [first, userIds, perUser, this.tag],
    );
    return Array.from({ length: userIds.length * perUser }, (_, i) => Seeder.sessionId(first + i));
  }

  /** `total` sessions spread as evenly as possible over the users. */
  async spread(userIds: readonly string[], total: number): Promise<string[]> {
    const each = Math.floor(total / userIds.length);
    const extra = total % userIds.length;
    return [...(await this.sessions(userIds, each)), ...(await this.sessions(userIds.slice(0, extra), 1))];
  }

  /**
   * Fresh statistics (the planner must see the new rows) and a checkpoint, so the measurement
   * that follows starts where every repetition starts: its pages first touched after a checkpoint.
   */
  async settle(): Promise<void> {
    await this.client.query(`ANALYZE ${this.s}.users, ${this.s}.sessions, ${this.s}.refresh_tokens`);
    await this.client.query('CHECKPOINT');
  }
}

export interface SignedInUsersOptions {
  /** Email of the one account registered over HTTP, whose real argon2id hash the seeded users share. */
  readonly firstEmail: string;
  readonly users: number;
  readonly sessionsPerUser: number;
  /** Insert each user's sessions in its own statement (large per-user counts). */
  readonly oneUserPerInsert?: boolean;
}

/**
 * Seeds users with sessions directly in the database, then signs each user in over HTTP (two at
 * a time) and returns one access token per user.
 */
export async function seedSignedInUsers(serverUrl: string, databaseUrl: string, options: SignedInUsersOptions): Promise<string[]> {
  const first = await call<{ userId: string }>(serverUrl, 'POST', '/auth/register', { email: options.firstEmail, password: BENCH_PASSWORD });
  if (first.status !== 201) throw new Error(`register answered ${first.status}`);
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  let emails: string[];
  try {
    const hash = await client.query<{ password_hash: string }>(`SELECT password_hash FROM "${BENCH_SCHEMA}".users WHERE id = $1`, [first.body.userId]);
    const seeder = new Seeder(client, BENCH_SCHEMA);
    const users = await seeder.users(options.users, hash.rows[0].password_hash);
    if (options.oneUserPerInsert) {
      for (const user of users) await seeder.sessions([user], options.sessionsPerUser);
    } else {
      await seeder.sessions(users, options.sessionsPerUser);
    }
    await seeder.settle();
    const rows = await client.query<{ email: string }>(`SELECT email FROM "${BENCH_SCHEMA}".users WHERE id = ANY($1::uuid[]) ORDER BY id`, [users]);
    emails = rows.rows.map((row) => row.email);
  } finally {
    await client.end();
  }
  return pool(emails, 2, async (email) => {
    const login = await call<{ accessToken: string }>(serverUrl, 'POST', '/auth/login', { email, password: BENCH_PASSWORD });
    if (login.status !== 200) throw new Error(`login answered ${login.status}`);
    return login.body.accessToken;
  });
}
