import { Actors, NO_REQUEST_CONTEXT, RevocationReasons, RevokeAllUserSessions } from '@app/sessions';
import { AuditRecorder } from '../libs/sessions/src/application/audit/audit-recorder';
import { DEFAULT_LIFETIMES } from '../libs/sessions/src/domain/session-rules';
import { ReconcilingSessionCache } from '../libs/sessions/src/application/shared/reconciling-session-cache';
import { SESSION_CACHE } from '../libs/sessions/src/application/ports/session-cache.port';
import { createClient } from '@keyv/redis';
import { CommandBus } from '@nestjs/cqrs';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { createWebApi } from '../src/web-api';
import { Seeder } from './seed';
import { collectGarbage, median, progress, REDIS_URL, sameStatementAsStore, startBenchRuntime, timeMs } from './support';

export interface RevokeAllRow {
  /** Active sessions of the one user revoked. */
  readonly sessions: number;
  /** Median time of one RevokeAllUserSessions through the CommandBus (events, audit, cache markers included). */
  readonly busMs: number;
  /** Median time of the same UPDATE in a transaction plus the same Redis writes, issued directly. */
  readonly floorMs: number;
  /** The floor's two parts: BEGIN, the UPDATE and COMMIT; then the Redis pipelines. */
  readonly floorSqlMs: number;
  readonly floorRedisMs: number;
  readonly busUsPerSession: number;
  readonly floorUsPerSession: number;
  readonly ratio: number;
  /** Revocations timed per repetition (each of a fresh user). */
  readonly opsPerRepetition: number;
  readonly repetitions: number;
  /** False when the floor's copy of the statement no longer matches the store's: the ratio then compares different work. */
  readonly floorStatementMatchesStore: boolean;
}

/**
 * The exact statement of TypeOrmSessionStore.revokeAllSessions, copied because the store keeps it
 * private. The floor must be the same work, so the run checks the copy against the store's source
 * and says so in its output when they differ.
 */
const REVOKE_ALL_SQL = `WITH ended AS (
         UPDATE sessions SET revoked_at = $3, revoked_reason = $4, revoked_by = $5
          WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $3
            AND ($2::uuid IS NULL OR id <> $2::uuid)
         RETURNING id),
       tokens AS (
         UPDATE refresh_tokens SET revoked_at = $3
          WHERE user_id = $1 AND revoked_at IS NULL AND session_id IN (SELECT id FROM ended))
       SELECT id FROM ended`;

/** As RedisSessionCache.markRevoked: SET <prefix>{<userId>}:<sessionId> 'r' EX ttl, pipelines of 10,000 (its default chunkSize). */
const PIPELINE = 1_000;
const MARKER_TTL_SECONDS = DEFAULT_LIFETIMES.accessTokenTtlSeconds + 60;

type RedisClient = ReturnType<typeof createClient>;

export interface RevokeAllOptions {
  readonly sizes: readonly number[];
  readonly repetitions: number;
  /** For K >= 100,000, where one revocation takes seconds and its seeding as long again. */
  readonly largeRepetitions: number;
  readonly warmups: number;
}

export const DEFAULT_REVOKE_ALL: RevokeAllOptions = { sizes: [1, 100, 10_000, 100_000], repetitions: 5, largeRepetitions: 5, warmups: 1 };

/**
 * The session cache's per-call timeout in this measurement. The default (CACHE_TIMEOUT_MS=250)
 * bounds each 10,000-key revocation pipeline too, and on this 2-core machine such a pipeline
 * takes 50-150 ms, and more than 250 ms when other work shares the cores: the markers are then not
 * written, the cache is distrusted and repaired. That is a finding to fix, not a cost to time.
 */
export const REVOKE_ALL_CACHE_TIMEOUT_MS = 5_000;

/** Small revocations are timed over many users per repetition, so a repetition is not a few µs of noise. */
function opsPerRepetition(sessions: number): number {
  if (sessions <= 1) return 200;
  if (sessions <= 100) return 40;
  if (sessions <= 10_000) return 2;
  return 1;
}

export async function measureRevokeAll(options: RevokeAllOptions = DEFAULT_REVOKE_ALL): Promise<RevokeAllRow[]> {
  const floorStatementMatchesStore = sameStatementAsStore('revoke-all floor', REVOKE_ALL_SQL);
  const stack = await startBenchRuntime('revoke-all', { cacheTimeoutMs: REVOKE_ALL_CACHE_TIMEOUT_MS });
  const app = await createWebApi(stack.runtime, { seedAdmin: false });
  const pg = new Client({ connectionString: stack.database.url });
  const redis: RedisClient = createClient({ url: REDIS_URL });
  try {
    await pg.connect();
    await redis.connect();
    const seeder = new Seeder(pg);
    const bus = app.get(CommandBus);
    const recorder = app.get(AuditRecorder);
    const cache = app.get<ReconcilingSessionCache>(SESSION_CACHE);

    const viaBus = async (userId: string) => {
      const outcome = await bus.execute(new RevokeAllUserSessions(userId, RevocationReasons.userRevokedAll, Actors.user(userId), NO_REQUEST_CONTEXT));
      // A marker write that failed would make the row meaningless (and start a repair pass): stop.
      if (cache.distrusted) throw new Error('The revocation markers were not written (the session cache is distrusted)');
      if (outcome.kind !== 'revoked') throw new Error(`Revoke-all was rejected: ${outcome.reason}`);
      return outcome.revokedCount;
    };
    let sqlMs = 0;
    let redisMs = 0;
    const direct = async (userId: string) => {
      const sqlStart = performance.now();
      await pg.query('BEGIN');
      let ids: string[];
      try {
        const result = await pg.query<{ id: string }>(REVOKE_ALL_SQL, [userId, null, new Date(), RevocationReasons.userRevokedAll, userId]);
        ids = result.rows.map((row) => row.id);
        await pg.query('COMMIT');
      } catch (error) {
        await pg.query('ROLLBACK');
        throw error;
      }
      const redisStart = performance.now();
      sqlMs += redisStart - sqlStart;
      for (let start = 0; start < ids.length; start += PIPELINE) {
        const pipeline = redis.multi();
        for (const id of ids.slice(start, start + PIPELINE)) pipeline.set(`${stack.cachePrefix}{${userId}}:${id}`, 'r', { EX: MARKER_TTL_SECONDS });
        await pipeline.execAsPipeline();
      }
      redisMs += performance.now() - redisStart;
      return ids.length;
    };

    type Samples = { bus: number[]; floor: number[]; floorSql: number[]; floorRedis: number[] };
    const samples = new Map<number, Samples>(options.sizes.map((k) => [k, { bus: [], floor: [], floorSql: [], floorRedis: [] }]));
    const repetitionsOf = (sessions: number) => (sessions >= 100_000 ? options.largeRepetitions : options.repetitions);
    const rounds = options.warmups + Math.max(...options.sizes.map(repetitionsOf));
    // Repetitions go round all sizes, so a slow spell on this shared machine hits every size, not one.
    for (let r = 0; r < rounds; r += 1) {
      for (const sessions of options.sizes) {
        if (r >= options.warmups + repetitionsOf(sessions)) continue;
        const ops = opsPerRepetition(sessions);
        const sizeSamples = samples.get(sessions)!;
        // Alternate which goes first, so neither always meets the other's leftovers (autovacuum, dirty pages).
        const order = r % 2 === 0 ? (['bus', 'floor'] as const) : (['floor', 'bus'] as const);
        for (const variant of order) {
          const users = await seeder.users(ops);
          await seeder.sessions(users, sessions);
          await seeder.settle();
          collectGarbage();
          sqlMs = 0;
          redisMs = 0;
          const revoke = variant === 'bus' ? viaBus : direct;
          const elapsed = await timeMs(async () => {
            for (const userId of users) {
              const revoked = await revoke(userId);
              if (revoked !== sessions) throw new Error(`${variant} revoked ${revoked} of ${sessions} sessions`);
            }
          });
          // The Attempted audit entries go out after the command answers; let them land before the next seeding.
          await recorder.drain();
          if (r < options.warmups) continue;
          sizeSamples[variant].push(elapsed / ops);
          if (variant === 'floor') {
            sizeSamples.floorSql.push(sqlMs / ops);
            sizeSamples.floorRedis.push(redisMs / ops);
          }
        }
      }
      progress(`revoke-all: round ${r + 1} of ${rounds} done`);
    }

    const rows: RevokeAllRow[] = [];
    for (const sessions of options.sizes) {
      const sizeSamples = samples.get(sessions)!;
      const busMs = median(sizeSamples.bus);
      const floorMs = median(sizeSamples.floor);
      const row: RevokeAllRow = {
        sessions,
        busMs,
        floorMs,
        floorSqlMs: median(sizeSamples.floorSql),
        floorRedisMs: median(sizeSamples.floorRedis),
        busUsPerSession: (busMs * 1000) / sessions,
        floorUsPerSession: (floorMs * 1000) / sessions,
        ratio: busMs / floorMs,
        opsPerRepetition: opsPerRepetition(sessions),
        repetitions: repetitionsOf(sessions),
        floorStatementMatchesStore,
      };
      const list = (values: number[]) => values.map((v) => v.toFixed(1)).join('/');
      progress(
        `revoke-all K=${sessions}: bus ${busMs.toFixed(2)} ms, floor ${floorMs.toFixed(2)} ms (SQL ${row.floorSqlMs.toFixed(2)}, Redis ${row.floorRedisMs.toFixed(2)}), ` +
          `ratio ${row.ratio.toFixed(2)} (bus ${list(sizeSamples.bus)}, floor ${list(sizeSamples.floor)})`,
      );
      rows.push(row);
    }
    return rows;
  } finally {
    redis.destroy();
    await pg.end().catch(() => undefined);
    await app.close();
    await stack.close();
  }
}
