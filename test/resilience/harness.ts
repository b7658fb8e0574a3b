import { createClient } from '@keyv/redis';
import { randomUUID } from 'node:crypto';
import { expectEventually } from '../support/eventually';
import { delay, waitFor } from '../support/service-process';

/**
 * What the resilience tests share: a small HTTP client over fetch, accounts with their devices,
 * and a load stream that runs one worker per account (so a user's requests never race each
 * other and the client always knows which of its sessions should be alive) and checks every
 * answer against what the service promises while a dependency fails under it.
 */

export interface HttpResult {
  /** 0 when no HTTP answer came (connection refused or reset, timeout). */
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed JSON body, read in the tests as supertest's is
  readonly body: any;
  readonly headers: Headers | undefined;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly ms: number;
  readonly error?: string;
}

export interface CallOptions {
  readonly body?: unknown;
  readonly token?: string;
  readonly userAgent?: string;
}

export class Http {
  constructor(
    readonly baseUrl: string,
    readonly name = baseUrl,
    private readonly timeoutMs = 20_000,
    /**
     * `close`: a connection per request. Through a TCP balancer (round-robin-proxy.ts) that is
     * what spreads requests over the backends; a kept-alive connection stays with one.
     */
    private readonly connection: 'keep-alive' | 'close' = 'keep-alive',
  ) {}

  async call(method: string, path: string, options: CallOptions = {}): Promise<HttpResult> {
    const headers: Record<string, string> = { 'user-agent': options.userAgent ?? 'resilience-test' };
    if (this.connection === 'close') headers.connection = 'close';
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const startedAt = Date.now();
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await response.text();
      const endedAt = Date.now();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON: keep the text.
      }
      return { status: response.status, body, headers: response.headers, startedAt, endedAt, ms: endedAt - startedAt };
    } catch (error) {
      const endedAt = Date.now();
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return {
        status: 0,
        body: undefined,
        headers: undefined,
        startedAt,
        endedAt,
        ms: endedAt - startedAt,
        error: cause?.code ?? cause?.message ?? (error as Error).message,
      };
    }
  }
}

export interface Device {
  readonly sessionId: string;
  accessToken: string;
  refreshToken: string;
  /** When the revocation that ended it answered (ms); set only when that is certain. */
  revokedAt?: number;
  /** A request about it got no definite answer (503, reset): it may or may not have taken effect. */
  uncertain?: boolean;
}

export interface Account {
  readonly userId: string;
  readonly email: string;
  readonly password: string;
  readonly devices: Device[];
  /** Sessions may exist that the client does not know of (a login without a definite answer). */
  uncertain: boolean;
}

export const PASSWORD = 'resilience password 1';

export function activeDevices(account: Account): Device[] {
  return account.devices.filter((device) => device.revokedAt === undefined && !device.uncertain);
}

export async function registerAccount(http: Http, label: string): Promise<Account> {
  const email = `${label}-${randomUUID().slice(0, 12)}@example.com`;
  const response = await http.call('POST', '/auth/register', { body: { email, password: PASSWORD } });
  if (response.status !== 201) throw new Error(`register answered ${response.status}: ${JSON.stringify(response.body)}`);
  return { userId: response.body.userId, email, password: PASSWORD, devices: [], uncertain: false };
}

/** Logs the account in once more; throws unless 200. */
export async function addDevice(http: Http, account: Account): Promise<Device> {
  const response = await http.call('POST', '/auth/login', { body: { email: account.email, password: account.password } });
  if (response.status !== 200) throw new Error(`login answered ${response.status}: ${JSON.stringify(response.body)}`);
  const device: Device = { sessionId: response.body.sessionId, accessToken: response.body.accessToken, refreshToken: response.body.refreshToken };
  account.devices.push(device);
  return device;
}

/** mulberry32: a seeded stream of numbers in [0, 1), so a failing run can be replayed with RESILIENCE_SEED. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function seed(): number {
  const fromEnv = Number(process.env.RESILIENCE_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31) + 1;
}

export type OpName = 'login' | 'me' | 'me_revoked' | 'refresh' | 'logout' | 'revoke_all' | 'delete_session';
export const REVOCATION_OPS: readonly OpName[] = ['logout', 'revoke_all', 'delete_session'];

export interface OpRecord {
  readonly op: OpName;
  readonly worker: number;
  readonly via: string;
  readonly status: number;
  readonly ms: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly phaseAtStart: string;
  readonly phaseAtEnd: string;
  readonly error?: string;
}

/** A revocation the service answered 2xx: these sessions must be revoked in PostgreSQL. */
export interface AnsweredRevocation {
  readonly op: OpName;
  readonly userId: string;
  readonly sessionIds: readonly string[];
  readonly revokedCount?: number;
  readonly startedAt: number;
  readonly answeredAt: number;
  readonly phaseAtStart: string;
  readonly phaseAtEnd: string;
}

export interface StreamOptions {
  /** One worker per account; a worker sends its requests one after the other. */
  readonly accounts: readonly Account[];
  /** Each request goes to one of these, round robin per worker. */
  readonly targets: readonly Http[];
  readonly weights: Partial<Record<OpName, number>>;
  readonly random: () => number;
  /** Devices an account keeps at most (login is skipped above it). Default 4. */
  readonly maxDevices?: number;
  /** Accept 503 (it must be problem+json with Retry-After) as a definite "not done". */
  readonly allow503?: boolean;
  /** Accept requests that get no HTTP answer (the process is being killed): treated as uncertain. */
  readonly allowNoAnswer?: boolean;
  /** Every answer must come within this. Default 10 s. */
  readonly maxLatencyMs?: number;
  /** Revoke-all: how often keepCurrent is true. Default 0.3. */
  readonly keepCurrentRate?: number;
  /** The workers stop by themselves after this long, should a test never stop them. Default 120 s. */
  readonly maxDurationMs?: number;
}

/** Every stream not yet stopped, so a test's afterAll can stop what a failed test left running. */
const running = new Set<LoadStream>();

export async function stopAllStreams(): Promise<void> {
  await Promise.all([...running].map((stream) => stream.stop()));
}

/**
 * Runs a mixed stream of requests until stop(). Every answer is checked at once; a broken
 * promise is kept in `violations` (the test asserts it is empty), never thrown, so the stream
 * keeps going and the report shows everything that went wrong.
 */
export class LoadStream {
  readonly records: OpRecord[] = [];
  readonly revocations: AnsweredRevocation[] = [];
  readonly violations: string[] = [];
  private phase = 'before';
  private stopping = false;
  private readonly workers: Promise<void>[] = [];
  private inFlightCount = 0;

  constructor(private readonly options: StreamOptions) {}

  get currentPhase(): string {
    return this.phase;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Later requests are counted in this phase (by their start and by their answer). */
  setPhase(name: string): void {
    this.phase = name;
  }

  start(): void {
    running.add(this);
    const deadline = Date.now() + (this.options.maxDurationMs ?? 120_000);
    this.options.accounts.forEach((account, index) => this.workers.push(this.work(account, index, deadline)));
  }

  /** Lets the requests in flight finish, then resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.workers);
    running.delete(this);
  }

  /** Marks the stream as stopping without waiting (the workers finish their current request). */
  halt(): void {
    this.stopping = true;
  }

  count(filter: (record: OpRecord) => boolean = () => true): number {
    let total = 0;
    for (const record of this.records) if (filter(record)) total += 1;
    return total;
  }

  /** Resolves once `condition` holds (checked as requests complete); throws after timeoutMs, or at once on too many violations. */
  async until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
    let tooManyViolations = false;
    await expectEventually(
      () => {
        if (condition()) return;
        tooManyViolations = this.violations.length > 200;
        if (!tooManyViolations) throw new Error(`Load stream: timed out after ${timeoutMs} ms waiting for ${what} (${this.summaryLine()})`);
      },
      { timeoutMs, intervalMs: 20 },
    );
    if (tooManyViolations) throw new Error(`Load stream: too many violations, first: ${this.violations.slice(0, 5).join('; ')}`);
  }

  summaryLine(): string {
    const byPhase: Record<string, number> = {};
    for (const record of this.records) byPhase[record.phaseAtStart] = (byPhase[record.phaseAtStart] ?? 0) + 1;
    return `requests ${this.records.length} ${JSON.stringify(byPhase)}, revocations ${this.revocations.length}, violations ${this.violations.length}`;
  }

  /** status → count, per op. */
  statusTable(filter: (record: OpRecord) => boolean = () => true): Record<string, Record<string, number>> {
    const table: Record<string, Record<string, number>> = {};
    for (const record of this.records) {
      if (!filter(record)) continue;
      const row = (table[record.op] ??= {});
      const key = record.status === 0 ? `no answer (${record.error})` : String(record.status);
      row[key] = (row[key] ?? 0) + 1;
    }
    return table;
  }

  private async work(account: Account, worker: number, deadline: number): Promise<void> {
    let turn = worker;
    while (!this.stopping && Date.now() < deadline) {
      const target = this.options.targets[turn % this.options.targets.length];
      turn += 1;
      const before = this.records.length;
      await this.step(account, worker, target);
      // Nothing listening (the process is down): do not spin on refused connections.
      if (this.records.length > before && this.records[this.records.length - 1].status === 0) await delay(50);
    }
  }

  private pick(): OpName {
    const entries = Object.entries(this.options.weights) as Array<[OpName, number]>;
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = this.options.random() * total;
    for (const [op, weight] of entries) {
      roll -= weight;
      if (roll < 0) return op;
    }
    return entries[entries.length - 1][0];
  }

  private any<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.options.random() * items.length)];
  }

  private async step(account: Account, worker: number, http: Http): Promise<void> {
    const active = activeDevices(account);
    let op = this.pick();
    if (active.length === 0 || (op === 'delete_session' && active.length < 2)) op = 'login';
    if (op === 'login' && active.length >= (this.options.maxDevices ?? 4)) op = 'me';
    const revoked = account.devices.filter((device) => device.revokedAt !== undefined);
    if (op === 'me_revoked' && revoked.length === 0) op = 'me';

    switch (op) {
      case 'login': {
        const result = await this.send(op, worker, http, 'POST', '/auth/login', { body: { email: account.email, password: account.password } });
        if (result.status === 200) {
          account.devices.push({ sessionId: result.body.sessionId, accessToken: result.body.accessToken, refreshToken: result.body.refreshToken });
        } else if (this.isIndefinite(result)) {
          account.uncertain = true;
        } else this.unexpected(op, result, '200');
        return;
      }
      case 'me': {
        const device = this.any(active)!;
        const result = await this.send(op, worker, http, 'GET', '/auth/me', { token: device.accessToken });
        if (result.status === 200) {
          if (result.body?.sessionId !== device.sessionId)
            this.violations.push(`me answered for session ${result.body?.sessionId}, expected ${device.sessionId}`);
        } else if (!this.isIndefinite(result)) this.unexpected(op, result, '200 for an active session');
        return;
      }
      case 'me_revoked': {
        const device = this.any(revoked)!;
        const result = await this.send(op, worker, http, 'GET', '/auth/me', { token: device.accessToken });
        if (result.status === 200) {
          this.violations.push(
            `REVOKED SESSION ACCEPTED: GET /auth/me via ${http.name} answered 200 for session ${device.sessionId}, revoked ${result.startedAt - device.revokedAt!} ms before the request (phase ${result.phase})`,
          );
        } else if (result.status !== 401 && !this.isIndefinite(result)) this.unexpected(op, result, '401 for a revoked session');
        return;
      }
      case 'refresh': {
        const device = this.any(active)!;
        const result = await this.send(op, worker, http, 'POST', '/auth/refresh', { body: { refreshToken: device.refreshToken } });
        if (result.status === 200) {
          if (result.body.sessionId !== device.sessionId) this.violations.push(`refresh moved session ${device.sessionId} to ${result.body.sessionId}`);
          device.accessToken = result.body.accessToken;
          device.refreshToken = result.body.refreshToken;
        } else if (this.isIndefinite(result)) {
          // The rotation may have committed: the old token may now count as reused.
          device.uncertain = true;
          account.uncertain = true;
        } else this.unexpected(op, result, '200');
        return;
      }
      case 'logout': {
        const device = this.any(active)!;
        const result = await this.send(op, worker, http, 'POST', '/auth/logout', { body: { refreshToken: device.refreshToken }, token: device.accessToken });
        if (result.status === 200) {
          device.revokedAt = result.endedAt;
          this.revocations.push(this.answered(op, account, [device.sessionId], result));
        } else if (this.isIndefinite(result)) {
          device.uncertain = true;
        } else this.unexpected(op, result, '200');
        return;
      }
      case 'delete_session': {
        const [caller, victim] = this.twoOf(active);
        const result = await this.send(op, worker, http, 'DELETE', `/auth/sessions/${victim.sessionId}`, { token: caller.accessToken });
        if (result.status === 200) {
          victim.revokedAt = result.endedAt;
          this.revocations.push(this.answered(op, account, [victim.sessionId], result));
        } else if (this.isIndefinite(result)) {
          victim.uncertain = true;
        } else this.unexpected(op, result, '200');
        return;
      }
      case 'revoke_all': {
        const caller = this.any(active)!;
        const keepCurrent = this.options.random() < (this.options.keepCurrentRate ?? 0.3);
        // Every session of the account that may still be alive, the uncertain ones included.
        const alive = account.devices.filter((device) => device.revokedAt === undefined && !(keepCurrent && device === caller));
        const certain = alive.filter((device) => !device.uncertain);
        const wasUncertain = account.uncertain || alive.some((device) => device.uncertain);
        const result = await this.send(op, worker, http, 'POST', '/auth/sessions/revoke-all', { body: { keepCurrent }, token: caller.accessToken });
        if (result.status === 200) {
          const count = result.body?.revokedCount;
          if (!wasUncertain && count !== certain.length) {
            this.violations.push(`revoke-all answered revokedCount ${count}, but ${certain.length} other sessions were alive (user ${account.userId})`);
          }
          for (const device of alive) {
            device.revokedAt = result.endedAt;
            device.uncertain = false;
          }
          // Sessions the client did not know of ended too.
          account.uncertain = false;
          this.revocations.push({
            ...this.answered(
              op,
              account,
              alive.map((device) => device.sessionId),
              result,
            ),
            revokedCount: count,
          });
        } else if (this.isIndefinite(result)) {
          for (const device of alive) device.uncertain = true;
          account.uncertain = true;
        } else this.unexpected(op, result, '200');
        return;
      }
    }
  }

  private twoOf(devices: readonly Device[]): [Device, Device] {
    const first = Math.floor(this.options.random() * devices.length);
    const second = (first + 1 + Math.floor(this.options.random() * (devices.length - 1))) % devices.length;
    return [devices[first], devices[second]];
  }

  private answered(op: OpName, account: Account, sessionIds: string[], result: StreamResult): AnsweredRevocation {
    return {
      op,
      userId: account.userId,
      sessionIds,
      startedAt: result.startedAt,
      answeredAt: result.endedAt,
      phaseAtStart: result.phase,
      phaseAtEnd: this.phase,
    };
  }

  /** A 503 or a missing answer, when the options allow it: the request may or may not have taken effect. */
  private isIndefinite(result: StreamResult): boolean {
    if (result.status === 503 && this.options.allow503) return true;
    if (result.status === 0 && this.options.allowNoAnswer) return true;
    return false;
  }

  private unexpected(op: OpName, result: StreamResult, expected: string): void {
    const detail = result.status === 0 ? `no answer (${result.error})` : `${result.status} ${JSON.stringify(result.body)?.slice(0, 200)}`;
    this.violations.push(`${op}: expected ${expected}, got ${detail} after ${result.ms} ms (phase ${result.phase})`);
  }

  private async send(op: OpName, worker: number, http: Http, method: string, path: string, options: CallOptions): Promise<StreamResult> {
    const phaseAtStart = this.phase;
    this.inFlightCount += 1;
    const result = await http.call(method, path, options);
    this.inFlightCount -= 1;
    this.records.push({
      op,
      worker,
      via: http.name,
      status: result.status,
      ms: result.ms,
      startedAt: result.startedAt,
      endedAt: result.endedAt,
      phaseAtStart,
      phaseAtEnd: this.phase,
      error: result.error,
    });
    const limit = this.options.maxLatencyMs ?? 10_000;
    if (result.ms > limit) this.violations.push(`${op} took ${result.ms} ms (limit ${limit} ms), answered ${result.status} (phase ${phaseAtStart})`);
    if (result.status >= 500) {
      if (result.status !== 503 || !this.options.allow503) {
        this.violations.push(`${op} answered ${result.status} ${JSON.stringify(result.body)?.slice(0, 300)} (phase ${phaseAtStart})`);
      } else {
        const contentType = result.headers?.get('content-type') ?? '';
        const retryAfter = result.headers?.get('retry-after');
        if (!contentType.startsWith('application/problem+json') || result.body?.status !== 503) {
          this.violations.push(`${op}: 503 is not problem+json: ${contentType} ${JSON.stringify(result.body)?.slice(0, 200)}`);
        }
        if (!retryAfter || !/^\d+$/.test(retryAfter)) this.violations.push(`${op}: 503 without a valid Retry-After (${retryAfter})`);
      }
    }
    return { ...result, phase: phaseAtStart };
  }
}

type StreamResult = HttpResult & { readonly phase: string };

/** GETs exact keys from a Redis on a connection of its own (the test's, not the service's). */
/**
 * Waits until every session is cached "active" in Redis, asking `/auth/me` again for those that
 * are not: a request refills the cache only while the service trusts it (it starts distrusted,
 * and a slow call under load distrusts it again), so one request each may leave nothing to wait for.
 */
export async function waitUntilCachedActive(web: Http, redisUrl: string, sessions: ReadonlyArray<{ key: string; accessToken: string }>): Promise<void> {
  await waitFor('the sessions to be cached "active" in Redis', async () => {
    const values = await redisGet(
      redisUrl,
      sessions.map((session) => session.key),
    );
    if (values.every((value) => value === ACTIVE_ENTRY)) return true;
    for (const [i, session] of sessions.entries()) {
      if (values[i] !== ACTIVE_ENTRY) {
        const { status } = await web.call('GET', '/auth/me', { token: session.accessToken });
        if (status !== 200) throw new Error(`GET /auth/me answered ${status} for a session that should be active`);
      }
    }
    return false;
  });
}

/** What the session cache stores for an active session. */
const ACTIVE_ENTRY = 'a';

export async function redisGet(url: string, keys: readonly string[]): Promise<Array<string | null>> {
  const client = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 2_000 } });
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis at ${url} did not answer within 5 s`)), 5_000);
  });
  try {
    return await Promise.race([
      (async () => {
        await client.connect();
        return keys.length === 0 ? [] : await client.mGet([...keys]);
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
    client.destroy();
  }
}

/** The session-cache key of the service (see redis-session-cache.ts): `<prefix>{<userId>}:<sessionId>`. */
export function sessionKey(prefix: string, userId: string, sessionId: string): string {
  return `${prefix}{${userId}}:${sessionId}`;
}

/** One line per entry, for the report. */
export function printReport(title: string, facts: Record<string, unknown>): void {
  const lines = Object.entries(facts).map(([key, value]) => `  ${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  console.log(`${title}\n${lines.join('\n')}`);
}
