import type { AuditWriteOutcome, AuthCheckOutcome, SessionsObserver } from '@app/sessions';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { AppName } from './labels';

/** The pg pool TypeORM's postgres driver keeps (`driver.master`): what the pool gauges read. */
interface PgPoolCounts {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** Longest a scrape waits for the outbox's depth: a slow database must not hold the scrape. */
const OUTBOX_DEPTH_TIMEOUT_MS = 1_000;

/**
 * One process's metrics, in a registry of its own (never prom-client's global one: several
 * runtimes in one process, as in the tests, must not share series). Both apps of a process
 * write here, each series labelled with its `app`. docs/metrics.md lists every series.
 */
export class RuntimeMetrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests answered, by app, method, route template (unmatched: no route) and status, from the request to the end of its answer.',
    labelNames: ['app', 'method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'http_rate_limited_total',
    help: 'Requests answered 429 by a rate limit, by app, limiter (ip, account, user, user-ip) and route template.',
    labelNames: ['app', 'limiter', 'route'] as const,
    registers: [this.registry],
  });

  readonly authChecks = new Counter({
    name: 'sessions_auth_checks_total',
    help: 'Access-token checks, by app, outcome (cache_hit, store, refused) and reason (why PostgreSQL answered, or why refused; none for a cache hit).',
    labelNames: ['app', 'outcome', 'reason'] as const,
    registers: [this.registry],
  });

  readonly revoked = new Counter({
    name: 'sessions_revoked_total',
    help: "Sessions ended, by app, reason (admin_stated for an administrator's own words) and actor type (user, admin, service, system).",
    labelNames: ['app', 'reason', 'actor_type'] as const,
    registers: [this.registry],
  });

  readonly logins = new Counter({
    name: 'sessions_logins_total',
    help: 'Logins, by app and outcome (succeeded, or the failure reason: invalid_credentials, account_locked, login_delayed, user_disabled, password_reset_required, ...).',
    labelNames: ['app', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly lockouts = new Counter({
    name: 'sessions_login_lockouts_started_total',
    help: 'Failed logins that started a lock (one network locked out of one email) or an email-wide progressive delay, by app and kind (lock, delay).',
    labelNames: ['app', 'kind'] as const,
    registers: [this.registry],
  });

  readonly auditWrites = new Counter({
    name: 'sessions_audit_writes_total',
    help: "Audit entries written outside their command's transaction, by app and outcome: written, retried (one per failed attempt that will be tried again), failed (given up, logged as audit_write_failed).",
    labelNames: ['app', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly cacheTrusted = new Gauge({
    name: 'sessions_cache_trusted',
    help: "Whether the app's session cache is trusted (1) or not (0: an outage or its repair; every check asks PostgreSQL).",
    labelNames: ['app'] as const,
    registers: [this.registry],
  });

  private outboxSources: Array<() => Promise<number>> = [];

  constructor(dataSource: DataSource) {
    collectDefaultMetrics({ register: this.registry });
    const pool = (): PgPoolCounts | undefined =>
      dataSource.isInitialized ? ((dataSource.driver as unknown as { master?: PgPoolCounts }).master ?? undefined) : undefined;
    new Gauge({
      name: 'db_pool_connections',
      help: "The process's PostgreSQL pool: connections open (state total) and idle (state idle), read at scrape time.",
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const counts = pool();
        this.reset();
        if (!counts) return;
        this.set({ state: 'total' }, counts.totalCount);
        this.set({ state: 'idle' }, counts.idleCount);
      },
    });
    new Gauge({
      name: 'db_pool_waiting_requests',
      help: 'Queries waiting for a free connection of the PostgreSQL pool, read at scrape time.',
      registers: [this.registry],
      collect() {
        this.set(pool()?.waitingCount ?? 0);
      },
    });
    const sources = () => this.outboxSources;
    new Gauge({
      name: 'sessions_cache_marker_outbox_depth',
      help: 'Revocation markers committed and not yet written to a session cache (every namespace), read at scrape time; absent when the database did not answer in time.',
      registers: [this.registry],
      async collect() {
        this.reset();
        const source = sources()[0];
        if (!source) return;
        const depth = await withTimeout(source(), OUTBOX_DEPTH_TIMEOUT_MS).catch(() => undefined);
        if (depth !== undefined) this.set(depth);
      },
    });
  }

  /** Where the outbox depth is read (any app's SessionDirectory: they read one table); returns the unregistration. */
  addOutboxDepthSource(source: () => Promise<number>): () => void {
    this.outboxSources = [...this.outboxSources, source];
    return () => (this.outboxSources = this.outboxSources.filter((candidate) => candidate !== source));
  }

  /** The sessions library's observer for one app. */
  observerFor(app: AppName): SessionsObserver {
    const { authChecks, auditWrites, cacheTrusted } = this;
    return {
      authCheck(outcome: AuthCheckOutcome, reason?: string): void {
        authChecks.inc({ app, outcome, reason: reason ?? 'none' });
      },
      auditWrite(outcome: AuditWriteOutcome, entries: number): void {
        auditWrites.inc({ app, outcome }, entries);
      },
      cacheTrust(trusted: boolean): void {
        cacheTrusted.set({ app }, trusted ? 1 : 0);
      },
    };
  }

  /** The scrape: Prometheus text format. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
