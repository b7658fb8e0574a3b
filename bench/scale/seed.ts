import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * The data of one side of `npm run bench:scale`, written with COPY (text format) from rows made
 * here, in the shape a busy deployment's tables have:
 *
 * - users created over two years;
 * - about five sessions per user (one to nine), of which 60 % live, 30 % revoked (logout,
 *   revoke-all), 10 % past their expiry and not yet purged; each session has its live or ended
 *   refresh token and the rotated one before it (two rows per session);
 * - the audit trail as pairs (Attempted, then Succeeded) of logins, refreshes and logouts over the
 *   last thirteen months, ids ascending with time as the service's uuid v7 ids are; the Attempted
 *   of a login or a refresh names no user, as the service writes it (so the trail has the links of
 *   audit_user_entries a user's page reads);
 * - on top, the users the measurements act on, the same in both sizes: users with exactly 5 and
 *   exactly 100 live sessions (revoke-all), and "probe" users with a fixed number of audit
 *   entries scattered through the trail (the admin's first and deep pages).
 *
 * Every id is `<kind prefix>-<12 hex digits>` numbered from 1, so the seeded rows of each kind
 * ascend like the service's own ids and never collide with them (those begin with a time).
 */

export interface ScaleSize {
  readonly users: number;
  readonly sessions: number;
  readonly auditEntries: number;
}

/** What the measurements act on; the same counts at both sizes. */
export interface ScaleTargets {
  readonly fiveSessionUsers: number;
  readonly hundredSessionUsers: number;
  readonly probeUsers: number;
  readonly entriesPerProbe: number;
}

export interface SeededSide {
  /** Ids of users with exactly 5 live sessions, and their count per user. */
  readonly fiveSessionUsers: string[];
  readonly hundredSessionUsers: string[];
  /** Users whose audit pages are read. */
  readonly probeUsers: string[];
  /** Live sessions not belonging to the target users, by number (see sessionId), and the user (by number) of each. */
  readonly liveSessions: number[];
  readonly liveSessionUsers: number[];
  /** Users of the general population (by number) for logins. */
  readonly users: number;
}

export const SCALE_PASSWORD = 'scale bench password';

const USER = '00000000-0000-7000-8000-';
const SESSION = '00000000-0000-7000-9000-';
const TOKEN = '00000000-0000-7000-a000-';
const ROTATED = '00000000-0000-7000-b000-';
const EVENT = '00000000-0000-7000-8e00-';
const CORRELATION = '00000000-0000-7000-8f00-';
const hex12 = (n: number) => n.toString(16).padStart(12, '0');

export const userId = (n: number) => USER + hex12(n);
export const sessionId = (n: number) => SESSION + hex12(n);

/** The plain refresh token of seeded session n (43 characters, like a real one). */
export function refreshTokenOf(n: number): string {
  return `scale${'0'.repeat(6)}${sessionId(n).replace(/-/g, '')}`;
}

const tokenHashOf = (n: number) => `\\\\x${createHash('sha256').update(refreshTokenOf(n), 'utf8').digest('hex')}`;

const DAY_MS = 86_400_000;
/** The seeded audit trail covers the last 13 months (the default retention). */
const AUDIT_SPAN_MS = 395 * DAY_MS;
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'okhttp/4.12.0',
];

/** A small deterministic generator (mulberry32), so both sides get the same shape from the same seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Streams `rows` lines into `COPY table (columns) FROM STDIN`, in chunks of a few hundred kB. */
async function copy(client: Client, table: string, columns: readonly string[], rows: Iterable<string>): Promise<void> {
  const chunks = function* () {
    let chunk = '';
    for (const row of rows) {
      chunk += row;
      if (chunk.length > 256_000) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  };
  await pipeline(Readable.from(chunks()), client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)));
}

export interface SeedOptions {
  readonly schema: string;
  readonly size: ScaleSize;
  readonly targets: ScaleTargets;
  /** The stored hash every seeded user shares (made by the bench's password hasher). */
  readonly passwordHash: string;
  /** Called between tables, for progress lines. */
  readonly progress: (message: string) => void;
  /** "now" of the seeded data. */
  readonly now: number;
  /** A second connection to the same database (the audit trail is copied beside the sessions). */
  readonly connect: () => Promise<Client>;
}

export async function seedSide(client: Client, options: SeedOptions): Promise<SeededSide> {
  const { size, targets, now } = options;
  const s = `"${options.schema}"`;
  const rand = random(12);
  const population = size.users - targets.fiveSessionUsers - targets.hundredSessionUsers;
  const firstFive = population + 1;
  const firstHundred = firstFive + targets.fiveSessionUsers;

  options.progress(`users: ${size.users.toLocaleString('en-US')}`);
  await copy(client, `${s}.users`, ['id', 'email', 'password_hash', 'role', 'created_at'], users(size.users, options.passwordHash, now));

  // The audit trail on a connection of its own, beside the sessions: neither refers to the other.
  const probeUsers = Array.from({ length: targets.probeUsers }, (_, i) => 1 + Math.floor(((i + 0.5) * population) / targets.probeUsers));
  const audit = (async () => {
    const auditClient = await options.connect();
    try {
      // The trail is partitioned by month of recorded_at; the service creates the months ahead, the
      // seeded past needs its own (the same function the service calls).
      const first = new Date(now - AUDIT_SPAN_MS);
      const months = (new Date(now).getUTCFullYear() - first.getUTCFullYear()) * 12 + new Date(now).getUTCMonth() - first.getUTCMonth() + 1;
      await auditClient.query(`SELECT ${s}.audit_entries_create_partitions($1, $2)`, [first, months]);
      options.progress(`audit entries: ${size.auditEntries.toLocaleString('en-US')} over ${months} monthly partitions`);
      await copy(
        auditClient,
        `${s}.audit_entries`,
        [
          'event_id',
          'correlation_id',
          'action',
          'outcome',
          'occurred_at',
          'user_id',
          'actor_type',
          'actor_id',
          'session_id',
          'ip_address',
          'user_agent',
          'details',
          'recorded_at',
        ],
        auditEntries(size, targets, probeUsers, population, now),
      );
    } finally {
      await auditClient.end();
    }
  })();
  // Whatever happens to the sessions' copy, the audit's is awaited (its rejection handled) before this returns.
  audit.catch(() => undefined);

  // The general population's session counts (1..9, mean 5), scaled to the size's total less the targets'.
  const targetSessions = targets.fiveSessionUsers * 5 + targets.hundredSessionUsers * 100;
  const budget = size.sessions - targetSessions;
  const perUser = new Uint8Array(population);
  let assigned = 0;
  for (let u = 0; u < population; u += 1) {
    perUser[u] = 1 + Math.floor(rand() * 9);
    assigned += perUser[u];
  }
  // Bring the total to the budget exactly: trim or add one session at a time over the users.
  for (let u = 0; assigned !== budget; u = (u + 1) % population) {
    if (assigned > budget && perUser[u] > 1) {
      perUser[u] -= 1;
      assigned -= 1;
    } else if (assigned < budget && perUser[u] < 9) {
      perUser[u] += 1;
      assigned += 1;
    }
  }

  const liveSessions: number[] = [];
  const liveSessionUsers: number[] = [];
  const sessionRows: string[] = [];
  const tokenRows: string[] = [];
  let nextSession = 1;
  let sessionsWritten = 0;
  const flush = async (force: boolean) => {
    if (sessionRows.length < 200_000 && !force) return;
    await copy(
      client,
      `${s}.sessions`,
      ['id', 'user_id', 'created_at', 'last_seen_at', 'expires_at', 'ip_address', 'user_agent', 'revoked_at', 'revoked_reason', 'kind'],
      sessionRows,
    );
    await copy(
      client,
      `${s}.refresh_tokens`,
      ['id', 'session_id', 'user_id', 'token_hash', 'issued_at', 'expires_at', 'revoked_at', 'parent_id', 'rotated_at'],
      tokenRows,
    );
    sessionsWritten += sessionRows.length;
    sessionRows.length = 0;
    tokenRows.length = 0;
  };
  const addSession = (user: number, state: 'live' | 'revoked' | 'expired') => {
    const n = nextSession++;
    const id = sessionId(n);
    const created = state === 'expired' ? now - (31 + rand() * 20) * DAY_MS : now - rand() * 29 * DAY_MS;
    const lastSeen = created + Math.min(now - created, rand() * 10 * DAY_MS);
    const expires = created + 30 * DAY_MS;
    const ua = USER_AGENTS[n % USER_AGENTS.length];
    const ip = `203.0.${(n >> 8) & 255}.${n & 255}`;
    const revokedAt = state === 'revoked' ? iso(lastSeen + 1000) : '\\N';
    const revokedReason = state === 'revoked' ? (n % 3 === 0 ? 'user_revoked_all' : 'logout') : '\\N';
    sessionRows.push(`${id}\t${userId(user)}\t${iso(created)}\t${iso(lastSeen)}\t${iso(expires)}\t${ip}\t${ua}\t${revokedAt}\t${revokedReason}\tapp\n`);
    // The rotated token (ended by the refresh that issued the current one), then the current one.
    const rotatedId = ROTATED + hex12(n);
    const rotatedHash = `\\\\x${createHash('sha256').update(`rotated-${n}`).digest('hex')}`;
    tokenRows.push(`${rotatedId}\t${id}\t${userId(user)}\t${rotatedHash}\t${iso(created)}\t${iso(expires)}\t${iso(lastSeen)}\t\\N\t${iso(lastSeen)}\n`);
    tokenRows.push(
      `${TOKEN + hex12(n)}\t${id}\t${userId(user)}\t${tokenHashOf(n)}\t${iso(lastSeen)}\t${iso(expires)}\t${state === 'live' ? '\\N' : revokedAt === '\\N' ? iso(expires) : revokedAt}\t${rotatedId}\t\\N\n`,
    );
    if (state === 'live') {
      liveSessions.push(n);
      liveSessionUsers.push(user);
    }
    return n;
  };

  options.progress(`sessions: ${size.sessions.toLocaleString('en-US')} (and two refresh tokens each)`);
  for (let u = 0; u < population; u += 1) {
    for (let i = 0; i < perUser[u]; i += 1) {
      const roll = rand();
      addSession(u + 1, roll < 0.6 ? 'live' : roll < 0.9 ? 'revoked' : 'expired');
    }
    await flush(false);
  }
  const general = liveSessions.length;
  for (let u = firstFive; u < firstHundred; u += 1) for (let i = 0; i < 5; i += 1) addSession(u, 'live');
  for (let u = firstHundred; u <= size.users; u += 1) for (let i = 0; i < 100; i += 1) addSession(u, 'live');
  await flush(true);
  if (sessionsWritten !== size.sessions) throw new Error(`seeded ${sessionsWritten} sessions, not ${size.sessions}`);

  await audit;

  return {
    fiveSessionUsers: Array.from({ length: targets.fiveSessionUsers }, (_, i) => userId(firstFive + i)),
    hundredSessionUsers: Array.from({ length: targets.hundredSessionUsers }, (_, i) => userId(firstHundred + i)),
    probeUsers: probeUsers.map(userId),
    liveSessions: liveSessions.slice(0, general),
    liveSessionUsers: liveSessionUsers.slice(0, general),
    users: population,
  };
}

function* users(count: number, passwordHash: string, now: number): Iterable<string> {
  const span = 730 * DAY_MS;
  for (let n = 1; n <= count; n += 1) {
    yield `${userId(n)}\tscale-${n}@example.com\t${passwordHash}\tuser\t${iso(now - span + (n * span) / count)}\n`;
  }
}

/**
 * Pairs of entries (Attempted, Succeeded) over the last 13 months, in time order. The probe users'
 * pairs are spread evenly through the trail (each probe user has `entriesPerProbe` entries at
 * either size); every other pair belongs to a user of the general population.
 */
function* auditEntries(size: ScaleSize, targets: ScaleTargets, probeUsers: readonly number[], population: number, now: number): Iterable<string> {
  const pairs = Math.floor(size.auditEntries / 2);
  const probePairs = (targets.probeUsers * targets.entriesPerProbe) / 2;
  const span = AUDIT_SPAN_MS;
  const start = now - span;
  const actions = ['user.login', 'tokens.refresh', 'tokens.refresh', 'tokens.refresh', 'user.logout'];
  const rand = random(99);
  let probe = 0;
  for (let p = 0; p < pairs; p += 1) {
    // The probe pair count at p's position, evenly spread: pair p is a probe pair when that count steps.
    const isProbe = Math.floor(((p + 1) * probePairs) / pairs) > Math.floor((p * probePairs) / pairs);
    const user = isProbe ? probeUsers[probe++ % probeUsers.length] : 1 + Math.floor(rand() * population);
    const at = start + (p * span) / pairs;
    const action = actions[p % actions.length];
    const correlation = CORRELATION + hex12(p + 1);
    const uid = userId(user);
    const session = sessionId(1 + (p % Math.max(1, size.sessions)));
    const ip = `198.51.${(p >> 8) & 255}.${p & 255}`;
    const ua = USER_AGENTS[p % USER_AGENTS.length];
    for (const [k, outcome] of [
      [1, 'attempted'],
      [2, 'succeeded'],
    ] as const) {
      const when = iso(at + k);
      // A login's or a refresh's Attempted names nobody yet (the service learns the user at the outcome).
      const who = outcome === 'attempted' && action !== 'user.logout' ? '\\N' : uid;
      yield `${EVENT + hex12(2 * p + k)}\t${correlation}\t${action}\t${outcome}\t${when}\t${who}\tuser\t${who}\t${session}\t${ip}\t${ua}\t{}\t${when}\n`;
    }
  }
}
