import { LogoutUser, NO_REQUEST_CONTEXT } from '@app/sessions';
import { AuditRecorder } from '../libs/sessions/src/application/audit/audit-recorder';
import { createHash } from 'node:crypto';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CommandBus } from '@nestjs/cqrs';
import { Client } from 'pg';
import { createWebApi } from '../src/web-api';
import { Seeder } from './seed';
import { revokeSessionByRefreshTokenSql } from '../libs/sessions/src/infrastructure/typeorm/session-records.sql';
import { BENCH_SCHEMA, type BenchStack, collectGarbage, median, newToken, progress, startBenchRuntime, timeMs } from './support';

export interface LogoutScalingRow {
  readonly storedTokens: number;
  /** A logout that ends a session: lookup, two UPDATEs, the audit rows, the commit, the cache marker. */
  readonly medianMs: number;
  /** A logout with an unknown token: the same lookups, nothing to write but the audit trail. */
  readonly unknownTokenMedianMs: number;
  readonly samples: number;
  /**
   * The logout statement under EXPLAIN (ANALYZE, BUFFERS, WAL), right after a checkpoint, as the
   * median over a few tokens not used above: where the time of a logout goes when the table is large.
   */
  readonly statement: {
    readonly executionMs: number;
    readonly sharedBuffers: number;
    readonly walRecords: number;
    readonly walFullPageImages: number;
    readonly walBytes: number;
  };
}

export interface LogoutScalingOptions {
  readonly sizes: readonly [number, number];
  readonly warmup: number;
  readonly repetitions: number;
  readonly perRepetition: number;
}

/** Many short repetitions alternating between the two databases: a logout takes a few ms, and this machine's other work comes and goes in seconds. */
export const DEFAULT_LOGOUT_SCALING: LogoutScalingOptions = { sizes: [1_000, 1_000_000], warmup: 50, repetitions: 31, perRepetition: 20 };

const FILLER_USERS = 1_000;
const EXPLAINED = 5;

/** The statement TypeOrmSessionRecords.revokeByRefreshToken sends, explained as it is. */
const LOGOUT_SQL = revokeSessionByRefreshTokenSql(BENCH_SCHEMA);

interface PlanNode {
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'WAL Records'?: number;
  'WAL FPI'?: number;
  'WAL Bytes'?: number;
}

/** Runs the logout statement for each token under EXPLAIN ANALYZE in a transaction that is rolled back. */
async function explainLogouts(url: string, tokens: readonly string[]): Promise<LogoutScalingRow['statement']> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
    const samples: Array<LogoutScalingRow['statement']> = [];
    for (const token of tokens) {
      await client.query('BEGIN');
      try {
        const result = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> }>(
          `EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) ${LOGOUT_SQL}`,
          [hashRefreshToken(token), null, new Date(), 'logout', null],
        );
        const [{ Plan: plan, 'Execution Time': executionMs }] = result.rows[0]['QUERY PLAN'];
        samples.push({
          executionMs,
          sharedBuffers: (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0),
          walRecords: plan['WAL Records'] ?? 0,
          walFullPageImages: plan['WAL FPI'] ?? 0,
          walBytes: plan['WAL Bytes'] ?? 0,
        });
      } finally {
        await client.query('ROLLBACK');
      }
    }
    // Medians: one statement that waited on this shared machine would swing a mean of five.
    const of = (field: keyof LogoutScalingRow['statement']) => median(samples.map((sample) => sample[field]));
    return {
      executionMs: of('executionMs'),
      sharedBuffers: of('sharedBuffers'),
      walRecords: of('walRecords'),
      walFullPageImages: of('walFullPageImages'),
      walBytes: of('walBytes'),
    };
  } finally {
    await client.end();
  }
}

interface Side {
  readonly storedTokens: number;
  readonly stack: BenchStack;
  readonly app: NestFastifyApplication;
  readonly tokens: string[];
  next: number;
  readonly known: number[];
  readonly unknown: number[];
}

function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** `storedTokens` live refresh tokens in all, over 1,000 users; the last `targets` are the ones logged out. */
async function prepare(storedTokens: number, targets: number): Promise<Side> {
  const stack = await startBenchRuntime(`logout-${storedTokens}`);
  const app = await createWebApi(stack.runtime, { seedAdmin: false });
  const client = new Client({ connectionString: stack.database.url });
  await client.connect();
  try {
    const seeder = new Seeder(client, BENCH_SCHEMA);
    const users = await seeder.users(FILLER_USERS);
    // In slices of 100 users, so no statement holds a million rows in its CTE.
    const filler = storedTokens - targets;
    for (let start = 0; start < users.length; start += 100) {
      const slice = users.slice(start, start + 100);
      const share = Math.floor(filler / users.length) * slice.length + Math.max(0, Math.min(slice.length, (filler % users.length) - start));
      await seeder.spread(slice, share);
    }
    const targetSessions = await seeder.spread(users, targets);
    await client.query('VACUUM ANALYZE');
    const stored = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${BENCH_SCHEMA}".refresh_tokens`);
    if (Number(stored.rows[0].n) !== storedTokens) throw new Error(`seeded ${stored.rows[0].n} refresh tokens, not ${storedTokens}`);
    // Seeding writes a lot of WAL: checkpoint now, not in the middle of the measurement.
    await client.query('CHECKPOINT');
    return { storedTokens, stack, app, tokens: targetSessions.map((id) => seeder.tokenOf(id)), next: 0, known: [], unknown: [] };
  } finally {
    await client.end();
  }
}

/**
 * Median time of one LogoutUser through the CommandBus (events and audit included) with few and
 * with many refresh tokens stored. Both databases are seeded first; then repetitions alternate
 * between them, so drift on this shared machine hits both sides alike.
 */
export async function measureLogoutScaling(options: LogoutScalingOptions = DEFAULT_LOGOUT_SCALING): Promise<LogoutScalingRow[]> {
  const targets = options.warmup + options.repetitions * options.perRepetition + EXPLAINED;
  const sides: Side[] = [];
  try {
    for (const size of options.sizes) {
      progress(`logout: seeding ${size.toLocaleString('en-US')} refresh tokens`);
      sides.push(await prepare(size, targets));
    }
    const logoutOne = async (side: Side) => {
      const outcome = await side.app.get(CommandBus).execute(new LogoutUser(side.tokens[side.next++], null, NO_REQUEST_CONTEXT));
      if (outcome.kind !== 'revoked') throw new Error(`logout was ${outcome.reason}`);
    };
    const unknownOne = async (side: Side) => {
      const outcome = await side.app.get(CommandBus).execute(new LogoutUser(newToken().token, null, NO_REQUEST_CONTEXT));
      if (outcome.kind !== 'rejected') throw new Error('an unknown token logged out');
    };
    for (const side of sides) {
      for (let i = 0; i < options.warmup; i += 1) await logoutOne(side);
      for (let i = 0; i < options.warmup; i += 1) await unknownOne(side);
      await side.app.get(AuditRecorder).drain();
    }
    for (let r = 0; r < options.repetitions; r += 1) {
      const order = r % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        collectGarbage();
        const known = await timeMs(async () => {
          for (let i = 0; i < options.perRepetition; i += 1) await logoutOne(side);
        });
        await side.app.get(AuditRecorder).drain();
        const unknown = await timeMs(async () => {
          for (let i = 0; i < options.perRepetition; i += 1) await unknownOne(side);
        });
        await side.app.get(AuditRecorder).drain();
        side.known.push(known / options.perRepetition);
        side.unknown.push(unknown / options.perRepetition);
      }
    }
    const rows: LogoutScalingRow[] = [];
    for (const side of sides) {
      const statement = await explainLogouts(side.stack.database.url, side.tokens.slice(side.next, side.next + EXPLAINED));
      progress(
        `logout ${side.storedTokens.toLocaleString('en-US')} stored: median ${median(side.known).toFixed(2)} ms (${Math.min(...side.known).toFixed(2)}..${Math.max(...side.known).toFixed(2)}); ` +
          `unknown ${median(side.unknown).toFixed(2)} ms (${Math.min(...side.unknown).toFixed(2)}..${Math.max(...side.unknown).toFixed(2)}); ` +
          `statement after a checkpoint ${statement.executionMs.toFixed(3)} ms, ${statement.sharedBuffers} buffers, ${statement.walFullPageImages} full-page images, ${Math.round(statement.walBytes)} WAL bytes`,
      );
      rows.push({
        storedTokens: side.storedTokens,
        medianMs: median(side.known),
        unknownTokenMedianMs: median(side.unknown),
        samples: options.repetitions * options.perRepetition,
        statement,
      });
    }
    return rows;
  } finally {
    for (const side of sides) {
      await side.app.close();
      await side.stack.close();
    }
  }
}
