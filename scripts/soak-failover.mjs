#!/usr/bin/env node
// Repeats the Redis Cluster failover under load (test/e2e/redis-cluster-failover.e2e-spec.ts, its first test: a
// fresh six-node cluster, a master SIGKILLed mid-stream, its replica promoted) N times in a row, one Jest run
// each, and prints each run's figures and a summary: how many runs recovered trust, and how fast.
// Usage: npm run soak:failover [-- <runs>]   (default 5; real PostgreSQL on 127.0.0.1:5432 and redis-server needed)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? process.env.SOAK_RUNS ?? 5);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`runs must be a positive integer (got "${process.argv[2] ?? process.env.SOAK_RUNS}")`);
  process.exit(2);
}
const root = fileURLToPath(new URL('..', import.meta.url));
const jest = fileURLToPath(new URL('../node_modules/jest/bin/jest.js', import.meta.url));

/** The report lines printed by the test (`  key: value`), by key. */
function figures(output) {
  const found = {};
  for (const match of output.matchAll(/^\s+(.+?): (\d+)\s*$/gm)) found[match[1]] = Number(match[2]);
  return found;
}

function runOnce() {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [jest, '--config', 'jest.config.js', 'test/e2e/redis-cluster-failover.e2e-spec.ts', '-t', 'accepts no revoked session'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ passed: code === 0, output }));
  });
}

const results = [];
for (let i = 1; i <= runs; i += 1) {
  const started = Date.now();
  const { passed, output } = await runOnce();
  const found = figures(output);
  const result = {
    run: i,
    passed,
    requests: found['requests (total)'],
    revocationsInFailover: found['revocations answered during the failover (kill to trust)'],
    responses5xx: found['responses >= 500'],
    killToPromotionMs: found['kill to promotion seen (ms)'],
    killToTrustMs: found['kill to cache trusted again (ms)'],
    slowestAnswerMs: found['slowest answer (ms)'],
    wallMs: Date.now() - started,
  };
  results.push(result);
  console.log(JSON.stringify(result));
  if (!passed)
    console.log(
      output
        .split('\n')
        .filter((line) => /●|Expected|Received|Error/.test(line))
        .slice(0, 20)
        .join('\n'),
    );
}

const spread = (values) => {
  const sorted = values.filter((value) => value !== undefined).sort((a, b) => a - b);
  if (sorted.length === 0) return 'n/a';
  return `min ${sorted[0]}, median ${sorted[Math.floor((sorted.length - 1) / 2)]}, max ${sorted[sorted.length - 1]}`;
};
const recovered = results.filter((result) => result.passed);
const sum = (key) => results.reduce((total, result) => total + (result[key] ?? 0), 0);
console.log(
  [
    `Redis Cluster failover soak: ${runs} runs`,
    `  recovered trust (and every check held): ${recovered.length} of ${runs}`,
    `  kill to promotion seen (ms): ${spread(recovered.map((result) => result.killToPromotionMs))}`,
    `  kill to cache trusted again (ms): ${spread(recovered.map((result) => result.killToTrustMs))}`,
    `  requests: ${sum('requests')}, revocations answered during the failovers: ${sum('revocationsInFailover')}, responses >= 500: ${sum('responses5xx')}`,
  ].join('\n'),
);
process.exit(recovered.length === runs ? 0 : 1);
