import { Actors, LoginUser, LogoutUser, NO_REQUEST_CONTEXT, RevocationReasons, RevokeAllUserSessions } from '@app/sessions';
import { CommandBus } from '@nestjs/cqrs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { createAdminConsole } from '../../apps/admin-console/src/admin-console';
import { AuditRecorder } from '../../libs/sessions/src/application/audit/audit-recorder';
import { ACCESS_TOKENS, type AccessTokens } from '../../libs/sessions/src/application/ports/access-token.port';
import type { PasswordHasher } from '../../libs/sessions/src/application/ports/password-hasher.port';
import { createWebApi } from '../../src/web-api';
import { describeMachine } from '../machine';
import { BENCH_SCHEMA, type BenchStack, collectGarbage, onCleanup, progress, runBench, startBenchRuntime } from '../support';
import {
  random as seededRandom,
  refreshTokenOf,
  SCALE_PASSWORD,
  type ScaleSize,
  type ScaleTargets,
  type SeededSide,
  seedSide,
  sessionId,
  userId,
} from './seed';

/**
 * `npm run bench:scale`: how the cost of the hot paths grows with the data (issue 12). Two
 * databases are seeded with COPY, a small one and one a hundred times larger, and the same
 * operations are timed on both, round after round in alternation (so this shared machine's drift
 * hits both alike), through the service's own code: the web API and the admin console over
 * Fastify's inject (routing, guards, validation, serialisation: no sockets) and the CommandBus.
 *
 * Password hashing is replaced by a SHA-256 check (the bench's own PasswordHasher) so a login
 * times its insert path, not argon2id. The session check is cache-cold: every /auth/me is for a
 * session never checked before, so each one reads PostgreSQL (and fills the cache).
 *
 * Then, on the large side: table and index sizes, and what 200,000 refresh-style touches and
 * 1,000,000 revocations do to the tables (HOT share, dead tuples, index growth, autovacuum).
 *
 * BENCH_SCALE_QUICK=1: sizes a hundred times smaller, for working on the bench (nothing written).
 */

const QUICK = process.env.BENCH_SCALE_QUICK === '1';
const SIZES: readonly [ScaleSize, ScaleSize] = QUICK
  ? [
      { users: 1_000, sessions: 5_000, auditEntries: 10_000 },
      { users: 10_000, sessions: 50_000, auditEntries: 100_000 },
    ]
  : [
      { users: 10_000, sessions: 50_000, auditEntries: 100_000 },
      { users: 1_000_000, sessions: 5_000_000, auditEntries: 10_000_000 },
    ];
const TARGETS: ScaleTargets = { fiveSessionUsers: 80, hundredSessionUsers: 30, probeUsers: 4, entriesPerProbe: 3_000 };
const ROUNDS = QUICK ? 3 : 10;
const PER_ROUND = { me: 100, logout: 20, revokeAll5: 6, revokeAll100: 2, auditFirst: 20, auditDeep: 20, login: 20 } as const;
const AUDIT_PAGE = 50;
/** The deep page: the 40th, 2,000 entries into the probe user's 3,000. */
const DEEP_PAGE = 40;
const TOUCHES = QUICK ? 2_000 : 200_000;
const REVOCATIONS = QUICK ? 20_000 : 1_000_000;

type Operation = keyof typeof PER_ROUND;
const OPERATIONS = Object.keys(PER_ROUND) as Operation[];

/** The bench's password hasher: a SHA-256 compare, so a login's time is the rest of the login. */
const BENCH_HASHER: PasswordHasher = {
  hash: async (password) => `scale-sha256$${createHash('sha256').update(password).digest('hex')}`,
  verify: async (hash, password) => hash === `scale-sha256$${createHash('sha256').update(password).digest('hex')}`,
  needsRehash: () => false,
};

interface Side {
  readonly size: ScaleSize;
  readonly stack: BenchStack;
  readonly web: NestFastifyApplication;
  readonly admin: NestFastifyApplication;
  readonly seeded: SeededSide;
  /** Signed in again before each round: the other side's seeding outlasts an access token. */
  adminToken: string;
  /** The cursor of the deep page, per probe user. */
  readonly deepCursors: string[];
  readonly samples: Record<Operation, number[]>;
  /** Next unused live session for /auth/me, for logout (from the other end), five/hundred-session users, logins. */
  next: { me: number; logout: number; five: number; hundred: number; login: number; probe: number };
}

async function prepare(size: ScaleSize, index: number): Promise<Side> {
  // No purge and no sealing while timing: both would work through the seeded rows in the background.
  const stack = await startBenchRuntime(`scale-${index}`, { passwordHasher: BENCH_HASHER, sessionPurge: { intervalSeconds: 0 }, auditSealIntervalSeconds: 0 });
  const client = new Client({ connectionString: stack.database.url });
  await client.connect();
  let seeded: SeededSide;
  const started = performance.now();
  try {
    seeded = await seedSide(client, {
      schema: BENCH_SCHEMA,
      size,
      targets: TARGETS,
      passwordHash: await BENCH_HASHER.hash(SCALE_PASSWORD),
      progress: (message) => progress(`scale ${label(size)}: seeding ${message}`),
      now: Date.now(),
      connect: async () => {
        const second = new Client({ connectionString: stack.database.url });
        await second.connect();
        return second;
      },
    });
    await client.query(
      `INSERT INTO "${BENCH_SCHEMA}".users (id, email, password_hash, role, created_at) VALUES ($1, 'scale-admin@example.com', $2, 'admin', now())`,
      [userId(size.users + 1), await BENCH_HASHER.hash(SCALE_PASSWORD)],
    );
    progress(`scale ${label(size)}: seeded in ${((performance.now() - started) / 1000).toFixed(0)} s; VACUUM ANALYZE`);
    await client.query('VACUUM ANALYZE');
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
  const web = await createWebApi(stack.runtime, { seedAdmin: false });
  const admin = await createAdminConsole(stack.runtime, { seedAdmin: false });
  onCleanup(`apps of ${label(size)}`, async () => {
    await admin.close();
    await web.close();
  });
  await web.init();
  await admin.init();
  const side: Side = {
    size,
    stack,
    web,
    admin,
    seeded,
    adminToken: '',
    deepCursors: [],
    samples: Object.fromEntries(OPERATIONS.map((operation) => [operation, []])) as unknown as Record<Operation, number[]>,
    next: { me: 0, logout: seeded.liveSessions.length - 1, five: 0, hundred: 0, login: 1, probe: 0 },
  };
  await signInAdmin(side);
  for (const probe of seeded.probeUsers) {
    let cursor: string | null = null;
    for (let page = 1; page < DEEP_PAGE; page += 1) {
      const body = await auditPage(side, probe, cursor);
      cursor = body.nextCursor;
      if (!cursor) throw new Error(`the probe user ${probe} has fewer than ${DEEP_PAGE} pages`);
    }
    side.deepCursors.push(cursor!);
  }
  return side;
}

async function signInAdmin(side: Side): Promise<void> {
  const login = await side.web.get(CommandBus).execute(new LoginUser('scale-admin@example.com', SCALE_PASSWORD, NO_REQUEST_CONTEXT));
  if (login.kind !== 'authenticated') throw new Error(`the admin's login was ${login.reason}`);
  side.adminToken = login.accessToken;
}

const label = (size: ScaleSize) => `${size.users.toLocaleString('en-US')} users`;

async function auditPage(side: Side, user: string, cursor: string | null): Promise<{ entries: unknown[]; nextCursor: string | null }> {
  const response = await side.admin.inject({
    method: 'GET',
    url: `/admin/audit?userId=${user}&limit=${AUDIT_PAGE}${cursor ? `&cursor=${cursor}` : ''}`,
    headers: { authorization: `Bearer ${side.adminToken}` },
  });
  if (response.statusCode !== 200) throw new Error(`GET /admin/audit answered ${response.statusCode}: ${response.body}`);
  const body = response.json<{ entries: unknown[]; nextCursor: string | null }>();
  if (body.entries.length !== AUDIT_PAGE) throw new Error(`an audit page held ${body.entries.length} entries`);
  return body;
}

/** One timed operation of each kind, on one side; what it checks keeps the timing honest (a 401 is not a fast /auth/me). */
const OPERATION: Record<Operation, (side: Side) => Promise<void>> = {
  async me(side) {
    const i = side.next.me++;
    const n = side.seeded.liveSessions[i];
    const { token } = await side.web.get<AccessTokens>(ACCESS_TOKENS).issue({ userId: userId(side.seeded.liveSessionUsers[i]), sessionId: sessionId(n) });
    const started = performance.now();
    const response = await side.web.inject({ method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${token}` } });
    side.samples.me.push(performance.now() - started);
    if (response.statusCode !== 200) throw new Error(`/auth/me answered ${response.statusCode}`);
  },
  async logout(side) {
    const n = side.seeded.liveSessions[side.next.logout--];
    await timed(side, 'logout', async () => {
      const outcome = await side.web.get(CommandBus).execute(new LogoutUser(refreshTokenOf(n), null, NO_REQUEST_CONTEXT));
      if (outcome.kind !== 'revoked') throw new Error(`a logout was ${outcome.reason}`);
    });
  },
  async revokeAll5(side) {
    await revokeAll(side, 'revokeAll5', side.seeded.fiveSessionUsers[side.next.five++], 5);
  },
  async revokeAll100(side) {
    await revokeAll(side, 'revokeAll100', side.seeded.hundredSessionUsers[side.next.hundred++], 100);
  },
  async auditFirst(side) {
    const probe = side.seeded.probeUsers[side.next.probe++ % side.seeded.probeUsers.length];
    await timed(side, 'auditFirst', () => auditPage(side, probe, null));
  },
  async auditDeep(side) {
    const i = side.next.probe++ % side.seeded.probeUsers.length;
    await timed(side, 'auditDeep', () => auditPage(side, side.seeded.probeUsers[i], side.deepCursors[i]));
  },
  async login(side) {
    // Spread over the population (a stride through it), each user once.
    const n = 1 + ((side.next.login++ * 7_919) % side.seeded.users);
    await timed(side, 'login', async () => {
      const outcome = await side.web.get(CommandBus).execute(new LoginUser(`scale-${n}@example.com`, SCALE_PASSWORD, NO_REQUEST_CONTEXT));
      if (outcome.kind !== 'authenticated') throw new Error(`a login was ${outcome.reason}`);
    });
  },
};

async function timed(side: Side, operation: Operation, work: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await work();
  side.samples[operation].push(performance.now() - started);
}

async function revokeAll(side: Side, operation: Operation, user: string, expected: number): Promise<void> {
  await timed(side, operation, async () => {
    const outcome = await side.web
      .get(CommandBus)
      .execute(new RevokeAllUserSessions(user, RevocationReasons.userRevokedAll, Actors.user(user), NO_REQUEST_CONTEXT));
    if (outcome.kind !== 'revoked' || outcome.revokedCount !== expected) throw new Error(`a revoke-all of ${expected} ended ${JSON.stringify(outcome)}`);
  });
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

interface TableSizes {
  readonly table: string;
  readonly rows: number;
  readonly heapMb: number;
  readonly indexesMb: number;
  readonly indexes: Record<string, number>;
}

/** Heap and index sizes of the library's big tables (a partitioned table's partitions summed). */
async function tableSizes(client: Client): Promise<TableSizes[]> {
  const out: TableSizes[] = [];
  for (const table of ['users', 'sessions', 'refresh_tokens', 'audit_entries', 'audit_entry_keys', 'audit_user_entries']) {
    const parts = await client.query<{ relid: string }>(
      // pg_partition_tree has no row for a plain table: it is then its own only leaf.
      `SELECT relid::regclass::text AS relid FROM pg_partition_tree($1::regclass) WHERE isleaf
        UNION ALL SELECT $1::regclass::text WHERE NOT EXISTS (SELECT 1 FROM pg_partition_tree($1::regclass))`,
      [`"${BENCH_SCHEMA}".${table}`],
    );
    const relids = parts.rows.map((row) => row.relid);
    const heap = await client.query<{ heap: string; rows: string }>(
      `SELECT sum(pg_relation_size(r::regclass))::bigint AS heap, sum(c.reltuples)::bigint AS rows FROM unnest($1::text[]) r JOIN pg_class c ON c.oid = r::regclass`,
      [relids],
    );
    const indexes = await client.query<{ name: string; bytes: string }>(
      `SELECT coalesce(pi.relname, ci.relname) AS name, sum(pg_relation_size(i.indexrelid))::bigint AS bytes
         FROM unnest($1::text[]) r
         JOIN pg_index i ON i.indrelid = r::regclass
         JOIN pg_class ci ON ci.oid = i.indexrelid
         LEFT JOIN pg_inherits inh ON inh.inhrelid = i.indexrelid
         LEFT JOIN pg_class pi ON pi.oid = inh.inhparent
        GROUP BY 1 ORDER BY 1`,
      [relids],
    );
    const indexSizes = Object.fromEntries(indexes.rows.map((row) => [row.name, Number(row.bytes) / 1_048_576]));
    out.push({
      table,
      rows: Number(heap.rows[0].rows),
      heapMb: Number(heap.rows[0].heap) / 1_048_576,
      indexesMb: Object.values(indexSizes).reduce((a, b) => a + b, 0),
      indexes: indexSizes,
    });
  }
  return out;
}

interface WriteBehaviour {
  readonly fillfactor: string;
  readonly touches: { readonly updates: number; readonly hot: number };
  readonly revocations: {
    readonly sessions: number;
    readonly sessionsHot: number;
    readonly refreshTokens: number;
    readonly refreshTokensHot: number;
    readonly seconds: number;
    readonly deadTuplesAfter: Record<string, number>;
    /** MB each index grew by over the revocations. */
    readonly indexGrowthMb: Record<string, number>;
    readonly autovacuumOn: boolean;
    /**
     * Per table: whether the dead tuples passed autovacuum's default trigger, what cleaned them
     * (autovacuum within 180 s of the last revocation, else the bench's own VACUUM), how long
     * that took (seconds after the last revocation for autovacuum, the run time for VACUUM).
     */
    readonly vacuum: Record<string, { triggersAutovacuum: boolean; by: 'autovacuum' | 'VACUUM' | 'none'; seconds: number; deadTuplesAfter: number }>;
  };
}

async function tableStats(client: Client, table: string) {
  await client.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await client.query<{ upd: string; hot: string; dead: string; autovacuums: string }>(
    `SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot, n_dead_tup AS dead, autovacuum_count AS autovacuums FROM pg_stat_user_tables WHERE relid = $1::regclass`,
    [`"${BENCH_SCHEMA}".${table}`],
  );
  return { updates: Number(rows[0].upd), hot: Number(rows[0].hot), dead: Number(rows[0].dead), autovacuums: Number(rows[0].autovacuums) };
}

/**
 * What refreshes and revocations do to the large side's tables. Touches are the refresh's
 * `UPDATE sessions SET last_seen_at, ip_address, user_agent` (no indexed column); revocations set
 * revoked_at/revoked_reason on sessions and revoked_at on their live refresh token, in batches of
 * 5,000 as a busy service's stream of logouts and revoke-alls would, one transaction a batch.
 */
async function writeBehaviour(side: Side): Promise<WriteBehaviour> {
  const client = new Client({ connectionString: side.stack.database.url });
  await client.connect();
  const s = `"${BENCH_SCHEMA}"`;
  try {
    const fillfactor = await client.query<{ options: string[] | null }>(`SELECT reloptions AS options FROM pg_class WHERE oid = $1::regclass`, [
      `${s}.sessions`,
    ]);
    const live = side.seeded.liveSessions.slice(side.next.me, side.next.logout);
    if (live.length < TOUCHES + REVOCATIONS) throw new Error(`only ${live.length} live sessions left for ${TOUCHES + REVOCATIONS}`);
    const before = { sessions: await tableStats(client, 'sessions'), refresh: await tableStats(client, 'refresh_tokens') };
    // Refreshes come to sessions spread over the table: half the touches each to a random live
    // session, then the same sessions again (a second refresh finds the first one's old version,
    // which page pruning can reclaim).
    progress(`scale: ${TOUCHES.toLocaleString('en-US')} touches`);
    const rand = seededRandom(7);
    const touchedIds = Array.from({ length: TOUCHES / 2 }, () => sessionId(live[REVOCATIONS + Math.floor(rand() * (live.length - REVOCATIONS))]));
    for (let pass = 0; pass < 2; pass += 1) {
      for (let i = 0; i < touchedIds.length; i += 5_000) {
        await client.query(`UPDATE ${s}.sessions SET last_seen_at = now(), ip_address = '192.0.2.1', user_agent = 'scale-touch' WHERE id = ANY($1::uuid[])`, [
          touchedIds.slice(i, i + 5_000),
        ]);
      }
    }
    // A backend reports its counts to the statistics system when it goes idle, within a second.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const touched = await tableStats(client, 'sessions');
    const indexesBefore = await tableSizes(client);
    progress(`scale: ${REVOCATIONS.toLocaleString('en-US')} revocations`);
    const started = performance.now();
    for (let i = 0; i < REVOCATIONS; i += 5_000) {
      const ids = live.slice(i, Math.min(i + 5_000, REVOCATIONS)).map(sessionId);
      await client.query('BEGIN');
      await client.query(`UPDATE ${s}.sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE id = ANY($1::uuid[]) AND revoked_at IS NULL`, [ids]);
      await client.query(`UPDATE ${s}.refresh_tokens SET revoked_at = now() WHERE session_id = ANY($1::uuid[]) AND revoked_at IS NULL`, [ids]);
      await client.query('COMMIT');
    }
    const seconds = (performance.now() - started) / 1000;
    const revokedEnd = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const after = { sessions: await tableStats(client, 'sessions'), refresh: await tableStats(client, 'refresh_tokens') };
    const indexesAfter = await tableSizes(client);
    const growth: Record<string, number> = {};
    for (const table of indexesAfter.filter((t) => t.table === 'sessions' || t.table === 'refresh_tokens')) {
      const was = indexesBefore.find((t) => t.table === table.table)!;
      growth[`${table.table} (heap)`] = table.heapMb - was.heapMb;
      for (const [name, mb] of Object.entries(table.indexes)) growth[name] = mb - (was.indexes[name] ?? 0);
    }
    // This machine's PostgreSQL may run with autovacuum off (CI's does): then the bench runs the
    // VACUUM autovacuum would have started, and times it.
    const autovacuumOn = (await client.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0].autovacuum === 'on';
    const vacuum: WriteBehaviour['revocations']['vacuum'] = {};
    for (const table of ['sessions', 'refresh_tokens'] as const) {
      const reltuples = Number(
        (await client.query<{ n: string }>(`SELECT reltuples::bigint AS n FROM pg_class WHERE oid = $1::regclass`, [`${s}.${table}`])).rows[0].n,
      );
      const dead = table === 'sessions' ? after.sessions.dead : after.refresh.dead;
      // PostgreSQL's defaults: autovacuum_vacuum_threshold 50 + autovacuum_vacuum_scale_factor 0.2 of the rows.
      const triggers = dead > 50 + 0.2 * reltuples;
      let seconds: number | null = null;
      let by: 'autovacuum' | 'VACUUM' | 'none' = 'none';
      if (autovacuumOn) {
        progress(`scale: waiting up to 180 s for autovacuum of ${table}`);
        const start = table === 'sessions' ? after.sessions : after.refresh;
        for (let waited = 0; waited <= 180_000 && seconds === null; waited += 2_000) {
          if ((await tableStats(client, table)).autovacuums > start.autovacuums) {
            seconds = (Date.now() - revokedEnd) / 1000;
            by = 'autovacuum';
          } else await new Promise((resolve) => setTimeout(resolve, 2_000));
        }
      }
      if (seconds === null) {
        progress(`scale: VACUUM ${table}`);
        const vacuumStart = performance.now();
        await client.query(`VACUUM ${s}.${table}`);
        seconds = (performance.now() - vacuumStart) / 1000;
        by = 'VACUUM';
      }
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      vacuum[table] = { triggersAutovacuum: triggers, by, seconds, deadTuplesAfter: (await tableStats(client, table)).dead };
    }
    return {
      fillfactor: fillfactor.rows[0].options?.join(',') ?? 'default (100)',
      touches: { updates: touched.updates - before.sessions.updates, hot: touched.hot - before.sessions.hot },
      revocations: {
        sessions: after.sessions.updates - touched.updates,
        sessionsHot: after.sessions.hot - touched.hot,
        refreshTokens: after.refresh.updates - before.refresh.updates,
        refreshTokensHot: after.refresh.hot - before.refresh.hot,
        seconds,
        deadTuplesAfter: { sessions: after.sessions.dead, refresh_tokens: after.refresh.dead },
        indexGrowthMb: growth,
        autovacuumOn,
        vacuum,
      },
    };
  } finally {
    await client.end();
  }
}

interface OperationRow {
  readonly operation: Operation;
  readonly samples: number;
  readonly small: { readonly p50: number; readonly p99: number };
  readonly large: { readonly p50: number; readonly p99: number };
  readonly p50Ratio: number;
  readonly p99Ratio: number;
}

const DESCRIPTIONS: Record<Operation, string> = {
  me: 'session check from PostgreSQL (GET /auth/me, cache cold)',
  logout: 'logout (LogoutUser)',
  revokeAll5: 'revoke-all, K = 5',
  revokeAll100: 'revoke-all, K = 100',
  auditFirst: 'GET /admin/audit?userId= first page',
  auditDeep: `GET /admin/audit?userId= page ${DEEP_PAGE} by cursor`,
  login: 'login, insert path (hashing aside)',
};

async function main(): Promise<number> {
  const machine = await describeMachine();
  progress(`${machine.cores} cores (${machine.cpuModel}), ${machine.postgres}, ${machine.redis}, load average ${machine.loadAverageAtStart.join(' ')}`);
  const sides: Side[] = [];
  for (const [index, size] of SIZES.entries()) sides.push(await prepare(size, index));
  const sizes = await Promise.all(
    sides.map(async (side) => {
      const client = new Client({ connectionString: side.stack.database.url });
      await client.connect();
      try {
        return await tableSizes(client);
      } finally {
        await client.end();
      }
    }),
  );

  // A warm-up round on each side, not counted: the first calls load code paths and plans.
  for (const side of sides) {
    await signInAdmin(side);
    for (const operation of OPERATIONS) await OPERATION[operation](side);
    for (const samples of Object.values(side.samples)) samples.length = 0;
  }
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of sides) await signInAdmin(side);
    for (const operation of OPERATIONS) {
      for (const side of order) {
        collectGarbage();
        for (let i = 0; i < PER_ROUND[operation]; i += 1) await OPERATION[operation](side);
        await side.web.get(AuditRecorder).drain();
      }
    }
    progress(`scale: round ${round + 1} of ${ROUNDS}`);
  }
  const [small, large] = sides;
  const rows: OperationRow[] = OPERATIONS.map((operation) => {
    const of = (side: Side) => ({ p50: percentile(side.samples[operation], 50), p99: percentile(side.samples[operation], 99) });
    const a = of(small);
    const b = of(large);
    return { operation, samples: small.samples[operation].length, small: a, large: b, p50Ratio: b.p50 / a.p50, p99Ratio: b.p99 / a.p99 };
  });
  const writes = await writeBehaviour(large);

  const table = [
    `| operation | samples per side | ${label(small.size)} p50 / p99 (ms) | ${label(large.size)} p50 / p99 (ms) | ratio p50 / p99 (target ≤ 1.2) |`,
    '|---|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${DESCRIPTIONS[row.operation]} | ${row.samples} | ${row.small.p50.toFixed(2)} / ${row.small.p99.toFixed(2)} | ${row.large.p50.toFixed(2)} / ${row.large.p99.toFixed(2)} | ${row.p50Ratio.toFixed(2)}x / ${row.p99Ratio.toFixed(2)}x |`,
    ),
    '',
    `| table | ${label(small.size)}: rows, heap MB, indexes MB | ${label(large.size)}: rows, heap MB, indexes MB |`,
    '|---|---:|---:|',
    ...sizes[0].map((t, i) => {
      const l = sizes[1][i];
      return `| ${t.table} | ${t.rows.toLocaleString('en-US')}, ${t.heapMb.toFixed(1)}, ${t.indexesMb.toFixed(1)} | ${l.rows.toLocaleString('en-US')}, ${l.heapMb.toFixed(1)}, ${l.indexesMb.toFixed(1)} |`;
    }),
    '',
    `sessions fillfactor: ${writes.fillfactor}`,
    `${writes.touches.updates.toLocaleString('en-US')} refresh-style touches of sessions: ${((100 * writes.touches.hot) / Math.max(1, writes.touches.updates)).toFixed(1)} % HOT`,
    `${writes.revocations.sessions.toLocaleString('en-US')} session revocations in ${writes.revocations.seconds.toFixed(0)} s: ${((100 * writes.revocations.sessionsHot) / Math.max(1, writes.revocations.sessions)).toFixed(1)} % HOT; ` +
      `${writes.revocations.refreshTokens.toLocaleString('en-US')} refresh tokens ended: ${((100 * writes.revocations.refreshTokensHot) / Math.max(1, writes.revocations.refreshTokens)).toFixed(1)} % HOT`,
    `growth over the revocations (MB): ${Object.entries(writes.revocations.indexGrowthMb)
      .map(([name, mb]) => `${name} +${mb.toFixed(1)}`)
      .join(', ')}`,
    `dead tuples right after: ${JSON.stringify(writes.revocations.deadTuplesAfter)}; autovacuum ${writes.revocations.autovacuumOn ? 'on' : 'off on this server'}: ` +
      Object.entries(writes.revocations.vacuum)
        .map(
          ([table, v]) =>
            `${table} ${v.triggersAutovacuum ? 'past' : 'below'} the default trigger, cleaned by ${v.by} in ${v.seconds.toFixed(1)} s, ${v.deadTuplesAfter.toLocaleString('en-US')} dead tuples left`,
        )
        .join('; '),
  ].join('\n');
  process.stdout.write(`${table}\n`);
  if (!QUICK) {
    const dir = path.resolve(__dirname, '..', '..', '..', 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const result = { machine, sizes: SIZES, targets: TARGETS, rounds: ROUNDS, perRound: PER_ROUND, operations: rows, tableSizes: sizes, writes };
    writeFileSync(path.join(dir, `scale-${new Date().toISOString().slice(0, 10)}.json`), `${JSON.stringify(result, null, 2)}\n`);
  }
  return rows.every((row) => Number.isFinite(row.p50Ratio)) ? 0 : 1;
}

runBench(main);
