import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';

/** At most 10 connections: the client shares the machine's 2 cores with the server, PostgreSQL and Redis. */
export const CONNECTIONS = 10;

export interface LoadResult {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time of the server process per answered request, when LoadSpec.serverCpuMs was given. */
  readonly serverCpuUsPerRequest?: number;
  /** CPU time of the bench process (autocannon, the load generator) per answered request. */
  readonly clientCpuUsPerRequest: number;
}

export interface LoadSpec {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Called for every request: its headers and JSON body (a fresh token per request, ...). */
  readonly next: () => { readonly headers?: Record<string, string>; readonly body?: unknown };
  /** Seconds, or a fixed number of requests (when every request consumes something from a pool). */
  readonly duration?: number;
  readonly amount?: number;
  /** The status every answer must have. */
  readonly expectStatus: number;
  /** A check of every answer's body, for routes whose 200 alone does not prove the work was done (a session lookup answering `null`). */
  readonly expectBody?: (body: string) => boolean;
  /** The server's CPU time so far (BenchServer.cpuMs), to report CPU per request: unlike throughput, it barely moves when other work shares the cores. */
  readonly serverCpuMs?: () => number;
}

/** One autocannon run; throws unless every answer had the expected status. */
export async function load(spec: LoadSpec): Promise<LoadResult> {
  const statuses = new Map<number, number>();
  // autocannon reports only after its next 1-second tick, so its own duration is rounded up to
  // whole seconds: throughput is counted here, from the first request sent to the last answer.
  let first = 0;
  let last = 0;
  let answered = 0;
  let rejected = 0;
  let sample: string | undefined;
  const cpuBefore = spec.serverCpuMs?.();
  const clientBefore = process.cpuUsage();
  const result = await autocannon({
    url: spec.url,
    connections: CONNECTIONS,
    ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.duration ?? 5 }),
    timeout: 30,
    requests: [
      {
        method: spec.method,
        path: spec.path,
        setupRequest: (request) => {
          first ||= performance.now();
          const { headers, body } = spec.next();
          return {
            ...request,
            headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          };
        },
        onResponse: (status, body) => {
          last = performance.now();
          answered += 1;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (spec.expectBody && status === spec.expectStatus && !spec.expectBody(body)) {
            rejected += 1;
            sample ??= body.slice(0, 200);
          }
        },
      },
    ],
  });
  const unexpected = [...statuses].filter(([status]) => status !== spec.expectStatus);
  if (unexpected.length > 0 || result.errors > 0) {
    throw new Error(
      `${spec.method} ${spec.path}: expected only ${spec.expectStatus}, got ${JSON.stringify(Object.fromEntries(statuses))} and ${result.errors} connection errors`,
    );
  }
  if (rejected > 0) throw new Error(`${spec.method} ${spec.path}: ${rejected} of ${answered} answers failed the body check, e.g. ${sample}`);
  const client = process.cpuUsage(clientBefore);
  const cpuAfter = spec.serverCpuMs?.();
  return {
    ...(cpuBefore !== undefined && cpuAfter !== undefined ? { serverCpuUsPerRequest: ((cpuAfter - cpuBefore) * 1000) / answered } : {}),
    clientCpuUsPerRequest: (client.user + client.system) / answered,
    requests: answered,
    requestsPerSecond: answered / ((last - first) / 1000),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
}

/** JSON request to a server, for set-up steps (register, login, revoke-all). */
export async function call<T>(url: string, method: 'GET' | 'POST', path: string, body?: unknown, accessToken?: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
export async function pool<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index], index);
      }
    }),
  );
  return results;
}
