import type { BaselineResult } from './baseline';
import type { AuthCheckRow, RouteRow } from './http-routes';
import type { LogoutScalingRow } from './logout-scaling';
import type { Machine } from './machine';
import type { EmbeddedIdle, MemoryPoint } from './memory';
import type { PeerServer, PeersResult } from './peers';
import type { RevokeAllRow } from './revoke-all-scaling';
import { BENCH_HASHING } from './support';

export interface Results {
  revokeAll?: RevokeAllRow[];
  logout?: LogoutScalingRow[];
  authCheck?: AuthCheckRow[];
  routes?: RouteRow[];
  memory?: MemoryPoint[];
  embeddedIdle?: EmbeddedIdle;
  peers?: PeersResult;
  baseline?: BaselineResult;
  /** JwtAccessTokens.verify of one token, in this process (bench/jwt-verify.ts). */
  jwtVerificationsPerSecond?: number;
  /** Phase name to error message, for phases that failed. */
  failures: Record<string, string>;
}

export interface TableRow {
  readonly row: string;
  readonly measurement: string;
  readonly result: string;
  readonly reference: string;
  readonly ratio: string;
  readonly target: string;
}

const int = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : int(value)} ms`;
const us = (value: number) => `${value < 100 ? value.toFixed(1) : int(value)} µs`;
const ratio = (value: number) => `${value.toFixed(2)}x`;
const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
const http = (row: { requestsPerSecond: number; p50Ms: number; p99Ms: number; serverCpuUsPerRequest: number }) =>
  `${int(row.requestsPerSecond)} req/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, server CPU ${int(row.serverCpuUsPerRequest)} µs/req`;

/** Median RSS during the last step of requests over that during the second: above this it is not a plateau (the bench's tolerance). */
export const PLATEAU_TOLERANCE = 1.1;

/** RSS after the last step of GET /auth/me over RSS after the first (100,000 against 25,000 requests in a full run). */
export const MEMORY_GROWTH_TARGET = 1.1;

/** The targets of the comparison with the peers and with the baseline revision. */
export const PEER_TARGETS = { meOverFloor: 0.5, meOverBetterAuth: 8, meP99OverFloor: 3, redisDownOverBetterAuth: 2, overBaseline: 2 } as const;

/** Above this, "time per session must not grow with K" is reported as not met (the bench's tolerance, not the issue's). */
export const PER_SESSION_GROWTH_TOLERANCE = 1.1;

export function tableRows(results: Results): TableRow[] {
  const rows: TableRow[] = [];
  for (const r of results.revokeAll ?? []) {
    const targeted = r.sessions >= 10_000;
    rows.push({
      row: '1',
      measurement: `Revoke-all of one user's ${int(r.sessions)} session${r.sessions === 1 ? '' : 's'} (CommandBus)`,
      result: `${ms(r.busMs)}, ${us(r.busUsPerSession)}/session`,
      reference: `floor ${ms(r.floorMs)} (SQL ${ms(r.floorSqlMs)} + Redis ${ms(r.floorRedisMs)}), ${us(r.floorUsPerSession)}/session`,
      ratio: ratio(r.ratio),
      target: targeted ? `≤ 1.5x: ${verdict(r.ratio <= 1.5)}` : '-',
    });
  }
  const at = (k: number) => results.revokeAll?.find((r) => r.sessions === k);
  const [k10k, k100k] = [at(10_000), at(100_000)];
  if (k10k && k100k) {
    const growth = k100k.busUsPerSession / k10k.busUsPerSession;
    const floorGrowth = k100k.floorUsPerSession / k10k.floorUsPerSession;
    rows.push({
      row: '1',
      measurement: 'Revoke-all time per session at K = 100,000, against K = 10,000 (CommandBus)',
      result: `${us(k100k.busUsPerSession)}/session`,
      reference: `${us(k10k.busUsPerSession)}/session; the floor's: ${us(k100k.floorUsPerSession)} against ${us(k10k.floorUsPerSession)} (${ratio(floorGrowth)})`,
      ratio: ratio(growth),
      target: `does not grow (≤ ${PER_SESSION_GROWTH_TOLERANCE}x): ${verdict(growth <= PER_SESSION_GROWTH_TOLERANCE)}`,
    });
  }
  const logout = results.logout;
  if (logout && logout.length === 2) {
    const [few, many] = logout;
    rows.push({
      row: '2',
      measurement: `Logout by refresh token, ${int(many.storedTokens)} tokens stored (CommandBus)`,
      result: ms(many.medianMs),
      reference: `${int(few.storedTokens)} stored: ${ms(few.medianMs)}`,
      ratio: ratio(many.medianMs / few.medianMs),
      target: `≤ 1.2x: ${verdict(many.medianMs / few.medianMs <= 1.2)}`,
    });
    rows.push({
      row: '2',
      measurement: `Logout with an unknown token, ${int(many.storedTokens)} stored`,
      result: ms(many.unknownTokenMedianMs),
      reference: `${int(few.storedTokens)} stored: ${ms(few.unknownTokenMedianMs)}`,
      ratio: ratio(many.unknownTokenMedianMs / few.unknownTokenMedianMs),
      target: '-',
    });
    const statement = (row: LogoutScalingRow) =>
      `${row.statement.executionMs.toFixed(3)} ms, ${Math.round(row.statement.sharedBuffers)} buffers, ${row.statement.walFullPageImages} full-page images, ${int(row.statement.walBytes)} B of WAL`;
    rows.push({
      row: '2',
      measurement: `Logout statement just after a checkpoint (EXPLAIN ANALYZE), ${int(many.storedTokens)} stored`,
      result: statement(many),
      reference: `${int(few.storedTokens)} stored: ${statement(few)}`,
      ratio: ratio(many.statement.executionMs / few.statement.executionMs),
      target: '-',
    });
  }
  const reference = results.authCheck?.find((r) => r.mode === 'signature-only');
  const describeMode: Record<AuthCheckRow['mode'], string> = {
    session: 'session check, cache warm (production)',
    'signature-only': 'signature only (no session check)',
    'no-cache': 'session check from PostgreSQL only (cache unused)',
    'redis-down': 'session check with Redis unavailable (falls back to PostgreSQL)',
  };
  for (const r of results.authCheck ?? []) {
    if (r.mode === 'signature-only') continue;
    rows.push({
      row: '3',
      measurement: `GET /auth/me, ${describeMode[r.mode]}`,
      result: http(r),
      reference: reference ? `signature only: ${http(reference)}` : '-',
      ratio: `${ratio(r.ratio)} (CPU ${ratio(r.cpuRatio)})`,
      target: r.mode === 'session' ? `≥ 0.8x: ${verdict(r.ratio >= 0.8)}` : '-',
    });
  }
  if (results.jwtVerificationsPerSecond !== undefined) {
    rows.push({
      row: '3',
      measurement: 'Access-token verification alone (JwtAccessTokens.verify, in the bench process)',
      result: `${int(results.jwtVerificationsPerSecond)}/s, ${us(1e6 / results.jwtVerificationsPerSecond)} each`,
      reference: '-',
      ratio: '-',
      target: '-',
    });
  }
  for (const r of results.routes ?? []) {
    rows.push({
      row: '4',
      measurement: `${r.route}, 10 connections`,
      result: http(r),
      reference: '-',
      ratio: '-',
      target:
        r.route === 'POST /auth/login'
          ? `- (dominated by argon2id, m=${BENCH_HASHING.memoryCostKiB} KiB, t=${BENCH_HASHING.timeCost}, p=${BENCH_HASHING.parallelism}: one verification alone takes ${ms(r.argon2VerifyMs ?? Number.NaN)})`
          : r.route === 'GET /auth/me'
            ? '- (the session row of 3)'
            : '-',
    });
  }
  const memory = results.memory;
  if (memory && memory.length > 0) {
    const start = memory[0];
    for (const point of memory.slice(1)) {
      rows.push({
        row: '5',
        measurement: `Server RSS after ${point.after}`,
        result: `${point.rssMiB.toFixed(1)} MiB${point.stepMedianMiB !== undefined ? ` (median during the step ${point.stepMedianMiB.toFixed(1)} MiB)` : ''}`,
        reference: `at start: ${start.rssMiB.toFixed(1)} MiB`,
        ratio: ratio(point.ratioToStart),
        target: '-',
      });
    }
    const steps = memory.filter((point) => point.stepMedianMiB !== undefined);
    if (steps.length >= 3) {
      // The first step includes warming up (JIT, pools, heap sizing); after it, a leak keeps growing and a plateau does not.
      const [second, last] = [steps[1], steps.at(-1)!];
      const growth = last.stepMedianMiB! / second.stepMedianMiB!;
      rows.push({
        row: '5',
        measurement: `Server RSS, median during the last step of requests against during the second`,
        result: `${last.stepMedianMiB!.toFixed(1)} MiB (${steps.map((point) => point.stepMedianMiB!.toFixed(0)).join(', ')} by step)`,
        reference: `${second.stepMedianMiB!.toFixed(1)} MiB`,
        ratio: ratio(growth),
        target: `plateaus (≤ ${PLATEAU_TOLERANCE}x): ${verdict(growth <= PLATEAU_TOLERANCE)}`,
      });
    }
  }
  if (memory) {
    const steps = memory.filter((point) => point.stepMedianMiB !== undefined);
    if (steps.length >= 2) {
      const [first, last] = [steps[0], steps.at(-1)!];
      const growth = last.rssMiB / first.rssMiB;
      rows.push({
        row: '5',
        measurement: `Server RSS after ${last.after} against after ${first.after}`,
        result: `${last.rssMiB.toFixed(1)} MiB`,
        reference: `${first.rssMiB.toFixed(1)} MiB`,
        ratio: ratio(growth),
        target: `≤ ${MEMORY_GROWTH_TARGET}x: ${verdict(growth <= MEMORY_GROWTH_TARGET)}`,
      });
    }
  }
  if (results.embeddedIdle) {
    const idle = results.embeddedIdle;
    rows.push({
      row: '5',
      measurement: `Embedded mode (launch.js, both apps, PGlite, no DATABASE_URL/REDIS_URL) RSS, idle ${idle.idleSeconds} s after start-up`,
      result: `${idle.rssMiB.toFixed(1)} MiB`,
      reference: `start-up took ${idle.startSeconds.toFixed(1)} s`,
      ratio: '-',
      target: '- (reported)',
    });
  }
  rows.push(...peerRows(results.peers), ...baselineRows(results.baseline));
  for (const [phase, error] of Object.entries(results.failures)) {
    rows.push({ row: '!', measurement: `${phase} FAILED`, result: error.split('\n')[0].slice(0, 160), reference: '-', ratio: '-', target: '-' });
  }
  return rows;
}

function peerRows(peers: PeersResult | undefined): TableRow[] {
  if (!peers) return [];
  const { betterAuth, pg, redisClient } = peers.versions;
  const describe: Record<PeerServer, string> = {
    floor: `Floor: node:http, one Redis GET per request (node-redis ${redisClient}), small JSON`,
    'better-auth': `Better Auth ${betterAuth} GET /api/auth/get-session (email+password, PostgreSQL via pg ${pg}, default config)`,
    ours: 'Ours: GET /auth/me, session check, cache warm',
    'ours-redis-down': 'Ours: GET /auth/me, Redis down (PostgreSQL fallback)',
  };
  const by = (server: PeerServer) => peers.rows.find((row) => row.server === server)!;
  const rows: TableRow[] = peers.rows.map((row) => ({
    row: '6',
    measurement: `${describe[row.server]}, 10 connections`,
    result: http(row),
    reference: `load generator CPU ${int(row.clientCpuUsPerRequest)} µs/req${row.postgresTransactionsPerRequest !== undefined ? `; ${row.postgresTransactionsPerRequest.toFixed(2)} PostgreSQL transactions/req` : ''}`,
    ratio: '-',
    target: '-',
  }));
  const { ratios } = peers;
  const rps = (server: PeerServer) => `${int(by(server).requestsPerSecond)} req/s`;
  const within = `median of ${peers.rounds} rounds' own ratios`;
  rows.push(
    {
      row: '6',
      measurement: 'GET /auth/me (cache warm) throughput against the floor',
      result: rps('ours'),
      reference: `floor ${rps('floor')}`,
      ratio: `${ratio(ratios.meOverFloor)} (${within}; CPU ${ratio(ratios.cpu.meOverFloor)})`,
      target: `≥ ${PEER_TARGETS.meOverFloor}x: ${verdict(ratios.meOverFloor >= PEER_TARGETS.meOverFloor)}`,
    },
    {
      row: '6',
      measurement: 'GET /auth/me (cache warm) throughput against Better Auth get-session',
      result: rps('ours'),
      reference: `Better Auth ${rps('better-auth')}`,
      ratio: `${ratio(ratios.meOverBetterAuth)} (${within}; CPU ${ratio(ratios.cpu.meOverBetterAuth)})`,
      target: `≥ ${PEER_TARGETS.meOverBetterAuth}x: ${verdict(ratios.meOverBetterAuth >= PEER_TARGETS.meOverBetterAuth)}`,
    },
    {
      row: '6',
      measurement: 'GET /auth/me (cache warm) p99 against the floor p99',
      result: `p99 ${by('ours').p99Ms} ms`,
      reference: `floor p99 ${by('floor').p99Ms} ms`,
      ratio: `${ratio(ratios.meP99OverFloor)} (${within})`,
      target: `≤ ${PEER_TARGETS.meP99OverFloor}x: ${verdict(ratios.meP99OverFloor <= PEER_TARGETS.meP99OverFloor)}`,
    },
    {
      row: '6',
      measurement: 'GET /auth/me with Redis down throughput against Better Auth get-session',
      result: rps('ours-redis-down'),
      reference: `Better Auth ${rps('better-auth')}`,
      ratio: `${ratio(ratios.redisDownOverBetterAuth)} (${within}; CPU ${ratio(ratios.cpu.redisDownOverBetterAuth)})`,
      target: `≥ ${PEER_TARGETS.redisDownOverBetterAuth}x: ${verdict(ratios.redisDownOverBetterAuth >= PEER_TARGETS.redisDownOverBetterAuth)}`,
    },
  );
  return rows;
}

function baselineRows(baseline: BaselineResult | undefined): TableRow[] {
  if (!baseline) return [];
  if ('skipped' in baseline) {
    return [
      {
        row: '7',
        measurement: 'POST /auth/refresh and POST /auth/logout against a baseline revision',
        result: `skipped: ${baseline.skipped}`,
        reference: '-',
        ratio: '-',
        target: `≥ ${PEER_TARGETS.overBaseline}x: not measured`,
      },
    ];
  }
  return baseline.rows.map((row) => ({
    row: '7',
    measurement: `POST ${row.route}, 10 connections, against ${baseline.subject.slice(0, 60)}`,
    result: http(row.ours),
    reference: `baseline: ${http(row.baseline)}`,
    ratio: `${ratio(row.ratio)} (median of ${baseline.rounds} rounds' own ratios)`,
    target: `≥ ${PEER_TARGETS.overBaseline}x: ${verdict(row.ratio >= PEER_TARGETS.overBaseline)}`,
  }));
}

/** A Markdown table, so the same text reads in a terminal and pastes into the README. */
export function renderTable(rows: readonly TableRow[]): string {
  const header: TableRow = {
    row: '#',
    measurement: 'Measurement',
    result: 'Result (median)',
    reference: 'Reference (same run)',
    ratio: 'Ratio',
    target: 'Target',
  };
  const columns = ['row', 'measurement', 'result', 'reference', 'ratio', 'target'] as const;
  const all = [header, ...rows];
  const widths = columns.map((column) => Math.max(...all.map((row) => row[column].length)));
  const line = (row: TableRow) => `| ${columns.map((column, i) => row[column].padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function describeSetup(machine: Machine, seconds: number): string {
  return [
    `Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, shared by the load generator, the server, ${machine.postgres} and ${machine.redis} on one host;`,
    `Node ${machine.node}, autocannon ${machine.autocannon} with 10 connections; commit ${machine.commit}; load average at start ${machine.loadAverageAtStart.join(' ')}; whole run ${Math.round(seconds)} s.`,
    'Each figure is the median of several repetitions after a warm-up, measured in the same run as its reference. Command: npm run bench',
  ].join('\n');
}
