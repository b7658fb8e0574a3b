import type { HttpFigures } from './http-routes';
import type { MemoryPoint } from './memory';
import type { PeerRatios, PeersResult, PeerServer } from './peers';
import { type Results, tableRows } from './report';

const figures = (requestsPerSecond: number, p99Ms: number): HttpFigures => ({
  requestsPerSecond,
  p50Ms: 1,
  p99Ms,
  requests: 1_000,
  repetitions: 2,
  serverCpuUsPerRequest: 100,
});

function peers(ratios: PeerRatios): PeersResult {
  const server = (name: PeerServer, rps: number, p99: number) => ({ server: name, request: 'GET /', clientCpuUsPerRequest: 50, ...figures(rps, p99) });
  return {
    rows: [server('floor', 10_000, 2), server('better-auth', 400, 50), server('ours', 5_000, 6), server('ours-redis-down', 900, 20)],
    ratios,
    rounds: 3,
    versions: { betterAuth: '1.7.25', pg: '8.23.1', redisClient: '5.12.1' },
  };
}

const targetOf = (results: Results, measurement: string) => {
  const row = tableRows(results).find((candidate) => candidate.measurement.startsWith(measurement));
  if (!row) throw new Error(`no row "${measurement}"`);
  return row.target;
};

describe('bench report: the peer and baseline targets', () => {
  it('marks each peer target met at its bound and not met past it', () => {
    const atBounds = {
      failures: {},
      peers: peers({
        meOverFloor: 0.5,
        meOverBetterAuth: 8,
        meP99OverFloor: 3,
        redisDownOverBetterAuth: 2,
        cpu: { meOverFloor: 0.1, meOverBetterAuth: 4, redisDownOverBetterAuth: 3 },
      }),
    };
    expect(targetOf(atBounds, 'GET /auth/me (cache warm) throughput against the floor')).toBe('≥ 0.5x: met');
    expect(targetOf(atBounds, 'GET /auth/me (cache warm) throughput against Better Auth')).toBe('≥ 8x: met');
    expect(targetOf(atBounds, 'GET /auth/me (cache warm) p99 against the floor')).toBe('≤ 3x: met');
    expect(targetOf(atBounds, 'GET /auth/me with Redis down')).toBe('≥ 2x: met');

    const past = {
      failures: {},
      peers: peers({
        meOverFloor: 0.49,
        meOverBetterAuth: 7.9,
        meP99OverFloor: 3.01,
        redisDownOverBetterAuth: 1.99,
        cpu: { meOverFloor: 0.1, meOverBetterAuth: 4, redisDownOverBetterAuth: 3 },
      }),
    };
    expect(targetOf(past, 'GET /auth/me (cache warm) throughput against the floor')).toBe('≥ 0.5x: NOT met');
    expect(targetOf(past, 'GET /auth/me (cache warm) throughput against Better Auth')).toBe('≥ 8x: NOT met');
    expect(targetOf(past, 'GET /auth/me (cache warm) p99 against the floor')).toBe('≤ 3x: NOT met');
    expect(targetOf(past, 'GET /auth/me with Redis down')).toBe('≥ 2x: NOT met');
  });

  it('reports the ratio measured within the rounds, not one computed from the medians', () => {
    // Medians 5,000 against 10,000 would give 0.50x; the rounds' own ratios said 0.42x.
    const rows = tableRows({
      failures: {},
      peers: peers({
        meOverFloor: 0.42,
        meOverBetterAuth: 12,
        meP99OverFloor: 3,
        redisDownOverBetterAuth: 2,
        cpu: { meOverFloor: 0.1, meOverBetterAuth: 4, redisDownOverBetterAuth: 3 },
      }),
    });
    const row = rows.find((candidate) => candidate.measurement === 'GET /auth/me (cache warm) throughput against the floor')!;
    expect(row.ratio).toMatch(/^0\.42x/);
    expect(row.target).toBe('≥ 0.5x: NOT met');
  });

  it('says the baseline rows were skipped, and why, when no revision was given', () => {
    const rows = tableRows({ failures: {}, baseline: { skipped: 'BENCH_BASELINE_REV unset: nothing to compare with' } });
    expect(rows).toEqual([
      expect.objectContaining({ row: '7', result: 'skipped: BENCH_BASELINE_REV unset: nothing to compare with', target: '≥ 2x: not measured' }),
    ]);
  });

  it('marks refresh and logout against the baseline at 2x', () => {
    const baseline = {
      rev: 'main~3',
      commit: 'a'.repeat(40),
      subject: 'aaaaaaa Express',
      rounds: 3,
      rows: [
        { route: '/auth/refresh' as const, ours: figures(1_000, 20), baseline: figures(500, 40), ratio: 2 },
        { route: '/auth/logout' as const, ours: figures(900, 20), baseline: figures(500, 40), ratio: 1.8 },
      ],
    };
    const rows = tableRows({ failures: {}, baseline });
    expect(rows.map((row) => [row.measurement.split(',')[0], row.target])).toEqual([
      ['POST /auth/refresh', '≥ 2x: met'],
      ['POST /auth/logout', '≥ 2x: NOT met'],
    ]);
  });
});

describe('bench report: memory', () => {
  const point = (after: string, rssMiB: number, step: boolean): MemoryPoint => ({
    after,
    rssMiB,
    ratioToStart: rssMiB / 160,
    ...(step ? { stepMedianMiB: rssMiB } : {}),
  });
  const memory = (first: number, last: number): MemoryPoint[] => [
    point('start', 160, false),
    point('25,000 GET /auth/me requests', first, true),
    point('50,000 GET /auth/me requests', first, true),
    point('75,000 GET /auth/me requests', last, true),
    point('100,000 GET /auth/me requests', last, true),
  ];

  it('compares RSS after the last step of requests with RSS after the first, against 1.1x', () => {
    const measurement = 'Server RSS after 100,000 GET /auth/me requests against after 25,000';
    expect(targetOf({ failures: {}, memory: memory(300, 330) }, measurement)).toBe('≤ 1.1x: met');
    expect(targetOf({ failures: {}, memory: memory(300, 331) }, measurement)).toBe('≤ 1.1x: NOT met');
  });

  it('reports the embedded-mode idle RSS', () => {
    const rows = tableRows({ failures: {}, embeddedIdle: { rssMiB: 854.4, startSeconds: 20, idleSeconds: 5 } });
    expect(rows).toEqual([expect.objectContaining({ row: '5', result: '854.4 MiB' })]);
  });
});
