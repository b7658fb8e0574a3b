import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatSummary } from './cpuprofile-summary';
import { DEFAULT_HTTP, measureHttp } from './http-routes';
import { measureJwtVerify } from './jwt-verify';
import { DEFAULT_LOGOUT_SCALING, measureLogoutScaling } from './logout-scaling';
import { describeMachine } from './machine';
import { DEFAULT_BASELINE, measureBaseline } from './baseline';
import { DEFAULT_MEMORY, measureEmbeddedIdle, measureMemory } from './memory';
import { DEFAULT_PEERS, measurePeers } from './peers';
import { DEFAULT_PROFILE, profileServer, type ServerProfile } from './profile';
import { describeSetup, renderTable, type Results, tableRows } from './report';
import { DEFAULT_REVOKE_ALL, measureRevokeAll } from './revoke-all-scaling';
import { progress, runBench } from './support';

/**
 * `npm run bench`: every row of the performance issue in one run on this machine's PostgreSQL
 * and Redis, printed as one table and written to bench/results/<date>.json and latest.json.
 * BENCH_ONLY=revoke-all,logout,jwt,http,peers,baseline,memory,profile runs a subset, BENCH_QUICK=1
 * smaller sizes (for working on the bench itself; nothing is written then). BENCH_BASELINE_REV=<rev>
 * builds another revision for the baseline phase (skipped, with a line in the table, when unset).
 */
const PHASES = ['revoke-all', 'logout', 'jwt', 'http', 'peers', 'baseline', 'memory', 'profile'] as const;
type Phase = (typeof PHASES)[number];

const RESULTS_DIR = path.resolve(__dirname, '..', '..', 'bench', 'results');

async function main(): Promise<number> {
  const only = process.env.BENCH_ONLY?.split(',').map((phase) => phase.trim()) as Phase[] | undefined;
  const unknown = only?.filter((phase) => !PHASES.includes(phase));
  if (unknown?.length) throw new Error(`Unknown BENCH_ONLY phase(s) ${unknown.join(', ')}; known: ${PHASES.join(', ')}`);
  const runs = (phase: Phase) => !only || only.includes(phase);
  const quick = process.env.BENCH_QUICK === '1';

  const started = performance.now();
  const machine = await describeMachine();
  progress(`${machine.cores} cores (${machine.cpuModel}), ${machine.postgres}, ${machine.redis}, load average ${machine.loadAverageAtStart.join(' ')}`);
  const results: Results = { failures: {} };
  let profile: ServerProfile | undefined;

  const phase = async (name: Phase, work: () => Promise<void>) => {
    if (!runs(name)) return;
    const phaseStart = performance.now();
    progress(`${name}: start`);
    try {
      await work();
    } catch (error) {
      results.failures[name] = (error as Error).message;
      progress(`${name}: FAILED: ${(error as Error).stack}`);
    }
    progress(`${name}: ${((performance.now() - phaseStart) / 1000).toFixed(0)} s`);
  };

  await phase('revoke-all', async () => {
    results.revokeAll = await measureRevokeAll(quick ? { sizes: [1, 100, 10_000], repetitions: 2, largeRepetitions: 1, warmups: 1 } : DEFAULT_REVOKE_ALL);
  });
  await phase('logout', async () => {
    results.logout = await measureLogoutScaling(quick ? { sizes: [1_000, 20_000], warmup: 10, repetitions: 2, perRepetition: 20 } : DEFAULT_LOGOUT_SCALING);
  });
  await phase('jwt', async () => {
    results.jwtVerificationsPerSecond = await measureJwtVerify();
  });
  await phase('http', async () => {
    const { authCheck, routes } = await measureHttp(quick ? { repetitions: 1, seconds: 2, warmupSeconds: 1, tokenRequests: 500 } : DEFAULT_HTTP);
    results.authCheck = authCheck;
    results.routes = routes;
  });
  await phase('peers', async () => {
    results.peers = await measurePeers(quick ? { rounds: 2, seconds: 2, warmupSeconds: 1 } : DEFAULT_PEERS);
  });
  await phase('baseline', async () => {
    results.baseline = await measureBaseline(quick ? { rounds: 2, tokenRequests: 300 } : DEFAULT_BASELINE);
  });
  await phase('memory', async () => {
    results.memory = await measureMemory(quick ? { users: 10, sessionsPerUser: 99, requests: 8_000, steps: 4 } : DEFAULT_MEMORY);
    results.embeddedIdle = await measureEmbeddedIdle(quick ? 2 : 5);
  });
  await phase('profile', async () => {
    profile = await profileServer(quick ? { meSeconds: 2, revokeUsers: 2, sessionsPerUser: 10_000 } : DEFAULT_PROFILE);
  });

  const seconds = (performance.now() - started) / 1000;
  const rows = tableRows(results);
  const setup = describeSetup(machine, seconds);
  const loadAverageAtEnd = os.loadavg().map((value) => Math.round(value * 100) / 100);
  console.log(`${setup}\n\n${renderTable(rows)}\n`);
  if (profile) {
    console.log(
      [
        'CPU profile of the server (node --cpu-prof; self time by area and by function):',
        formatSummary(`GET /auth/me, session check, cache warm (${Math.round(profile.me.requestsPerSecond)} req/s while profiled)`, profile.me),
        formatSummary(
          `POST /auth/sessions/revoke-all, ${profile.revokeAll.sessions.toLocaleString('en-US')} sessions in ${Math.round(profile.revokeAll.wallMs)} ms`,
          profile.revokeAll,
        ),
      ].join('\n\n'),
    );
  }

  if (!only && !quick) {
    const report = {
      date: new Date().toISOString(),
      command: 'npm run bench',
      seconds: Math.round(seconds),
      machine: { ...machine, loadAverageAtEnd },
      setup,
      table: rows,
      results,
      profile,
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    const json = `${JSON.stringify(report, null, 2)}\n`;
    writeFileSync(path.join(RESULTS_DIR, `${report.date.slice(0, 10)}.json`), json);
    // latest.json is what the README quotes: a run with a failed phase does not replace it.
    const complete = Object.keys(results.failures).length === 0;
    if (complete) writeFileSync(path.join(RESULTS_DIR, 'latest.json'), json);
    progress(`written to bench/results/${report.date.slice(0, 10)}.json${complete ? ' and latest.json' : ' (not latest.json: a phase failed)'}`);
  }
  return Object.keys(results.failures).length > 0 ? 1 : 0;
}

runBench(main);
