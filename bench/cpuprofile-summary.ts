import { readFileSync } from 'node:fs';

/**
 * Sums the self time of a V8 .cpuprofile (`node --cpu-prof`) by function and by area (a
 * package under node_modules, this repository's code, Node's internals, V8's own buckets),
 * optionally within a time window. Usage:
 *   node .bench-build/bench/cpuprofile-summary.js <file.cpuprofile> [fromMs toMs] [--top N]
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  /** µs, process monotonic clock. */
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  /** µs since the previous sample (the first: since startTime). */
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly selfMs: number;
  /** Share of the busy (non-idle) time in the window. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly windowMs: number;
  readonly busyMs: number;
  readonly functions: readonly SelfTime[];
  readonly areas: readonly SelfTime[];
}

const V8_BUCKETS = new Set(['(program)', '(garbage collector)', '(idle)', '(root)']);

/** `pg/lib/result.js`, `libs/sessions/src/...`, `node:internal/...`. */
function shortUrl(url: string): string {
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + '/node_modules/'.length);
  const build = url.indexOf('.bench-build/');
  if (build >= 0) return url.slice(build + '.bench-build/'.length);
  return url.replace(/^file:\/\//, '');
}

function areaOf(frame: CallFrame): string {
  if (V8_BUCKETS.has(frame.functionName) && !frame.url) return frame.functionName;
  const url = shortUrl(frame.url);
  if (frame.url.includes('/node_modules/')) {
    const parts = url.split('/');
    return `node_modules/${parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  if (url.startsWith('node:') || (!url && frame.functionName)) return 'node internals and natives';
  if (/^(libs|src|apps|bench|test)\//.test(url))
    return `this repository (${url
      .split('/')
      .slice(0, url.startsWith('libs/') ? 2 : 1)
      .join('/')})`;
  return url || '(unknown)';
}

function nameOf(frame: CallFrame): string {
  if (V8_BUCKETS.has(frame.functionName) && !frame.url) return frame.functionName;
  const url = shortUrl(frame.url);
  return `${frame.functionName || '(anonymous)'} ${url ? `${url}:${frame.lineNumber + 1}` : '(native)'}`;
}

/** Self time by function and by area; fromMs/toMs are offsets from the profile's start. */
export function summarizeProfile(profile: CpuProfile, window: { fromMs: number; toMs: number } = { fromMs: 0, toMs: Infinity }, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  let at = profile.startTime;
  let windowUs = 0;
  let idleUs = 0;
  for (let i = 0; i < profile.samples.length; i += 1) {
    at += profile.timeDeltas[i];
    // A sample stands for the time until the next one.
    const next = i + 1 < profile.samples.length ? at + profile.timeDeltas[i + 1] : profile.endTime;
    const duration = Math.max(0, next - at);
    const offsetMs = (at - profile.startTime) / 1000;
    if (offsetMs < window.fromMs || offsetMs >= window.toMs) continue;
    const frame = byId.get(profile.samples[i]);
    if (!frame) continue;
    windowUs += duration;
    if (frame.functionName === '(idle)' && !frame.url) {
      idleUs += duration;
      continue;
    }
    const name = nameOf(frame);
    functions.set(name, (functions.get(name) ?? 0) + duration);
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + duration);
  }
  const busyUs = windowUs - idleUs;
  const rank = (totals: Map<string, number>, limit: number): SelfTime[] =>
    [...totals]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  return { windowMs: windowUs / 1000, busyMs: busyUs / 1000, functions: rank(functions, top), areas: rank(areas, top) };
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

export function formatSummary(title: string, summary: ProfileSummary): string {
  const line = (entry: SelfTime) => `  ${entry.selfMs.toFixed(0).padStart(7)} ms ${(entry.share * 100).toFixed(1).padStart(5)}%  ${entry.name}`;
  return [
    `${title}: ${summary.windowMs.toFixed(0)} ms sampled, ${summary.busyMs.toFixed(0)} ms busy (self time, share of busy)`,
    ' by area:',
    ...summary.areas.map(line),
    ' by function:',
    ...summary.functions.map(line),
  ].join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args.splice(topIndex, 2)[1]) : 20;
  const [file, from, to] = args;
  if (!file) {
    console.error('usage: cpuprofile-summary <file.cpuprofile> [fromMs toMs] [--top N]');
    process.exit(2);
  }
  const window = from !== undefined ? { fromMs: Number(from), toMs: to !== undefined ? Number(to) : Infinity } : undefined;
  console.log(formatSummary(file, summarizeProfile(readProfile(file), window, top)));
}
