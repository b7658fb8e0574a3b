import { SESSIONS_DEFAULTS, type SessionsModuleOptions } from '@app/sessions';
import type { AuthCheckMode } from './benchmark/auth-check-modes';
import type { CacheStoreKind } from './cache/redis-cache-stores';
import type { TrustProxy } from './config/environment-rules';
import type { AppLogger } from './logging/app-logger';

/** Everything the composition root needs, already validated (see loadEnvironment in ./config). */
export interface RuntimeSettings {
  readonly database: {
    /** Absent: an embedded PGlite database is started in this process. */
    readonly url?: string;
    readonly poolSize: number;
    readonly statementTimeoutMs: number;
    /** Where the embedded database keeps its files; in memory when absent. */
    readonly embeddedDataDir?: string;
  };
  readonly cache: {
    /** Absent (with redisClusterNodes): an in-process cache, and the sessions library is told it runs as a single instance. */
    readonly redisUrl?: string;
    /** Redis Cluster seeds (`host:port`), instead of redisUrl; only with store `keyv-redis`. */
    readonly redisClusterNodes?: readonly string[];
    readonly store: CacheStoreKind;
  };
  /** The sessions library's options (what is absent takes the library's default); the apps sign with an HS256 secret. */
  readonly sessions: SessionsModuleOptions & { readonly accessTokenSecret: string };
  /** Benchmarks only (see AuthCheckMode); `session` when absent, and always in production. */
  readonly benchmarkAuthCheck?: AuthCheckMode;
  readonly http: {
    readonly host: string;
    readonly bodyLimit: string;
    /** Which proxies' X-Forwarded-For entries are believed (proxy-addr's rules): false means the client IP is the socket's. */
    readonly trustProxy: TrustProxy;
    /** Longest a client may take to send its request headers; DEFAULT_HTTP_TIMEOUTS when absent. */
    readonly headersTimeoutMs?: number;
    /** Longest a client may take to send a whole request, body included; DEFAULT_HTTP_TIMEOUTS when absent. */
    readonly requestTimeoutMs?: number;
    /** Exact origins whose pages may call each app from a browser (CORS); absent or empty: CORS off for that app. */
    readonly corsOrigins?: { readonly web?: readonly string[]; readonly admin?: readonly string[] };
    /** Strict-Transport-Security max-age; absent or 0: the header is not sent. */
    readonly hstsMaxAgeSeconds?: number;
    /** OpenAPI at /docs and /docs-json; served when absent. */
    readonly apiDocs?: boolean;
    /** The built admin console page the admin app serves at `/`; absent: `dist/console` of the repository (what `npm run build` writes). */
    readonly consoleAssetsDir?: string;
  };
  readonly admin?: { readonly email: string; readonly password: string };
  /** The services that may read GET /revocations (name, hex SHA-256 of the secret); none when absent. */
  readonly serviceClients?: ReadonlyArray<{ readonly name: string; readonly secretSha256: string }>;
  /** The admin console's own rules (its session lifetime is the sessions library's `lifetimes.consoleSessionTtlSeconds`); DEFAULT_ADMIN_CONSOLE when absent. */
  readonly adminConsole?: AdminConsoleSettings;
  /** Limits of login, refresh, logout and register, and the login lockout; DEFAULT_RATE_LIMIT when absent. */
  readonly rateLimit?: RateLimitSettings;
  /** The process's pino logger and Nest's LoggerService over it (JSON lines in production; see docs/logging.md). */
  readonly logger: AppLogger;
  /** `run` when absent. The embedded database always runs them. */
  readonly migrationsAtStartup?: MigrationsAtStartup;
  /** The shutdown sequence after SIGTERM or SIGINT (see serve); DEFAULT_SHUTDOWN when absent. */
  readonly shutdown?: ShutdownSettings;
  /** The Prometheus listener (docs/metrics.md); absent: none is started (the series are still counted). */
  readonly metrics?: MetricsSettings;
}

export interface AdminConsoleSettings {
  /**
   * How long after the password was last entered in a session (a console sign-in, or
   * POST /admin/auth/reauthenticate) it may act on another administrator or on several users at once.
   */
  readonly reauthWindowSeconds: number;
}

/** The default of ADMIN_REAUTH_WINDOW_SECONDS: five minutes, GitHub's sudo mode is two hours; an incident's actions come in bursts. */
export const DEFAULT_ADMIN_CONSOLE: AdminConsoleSettings = { reauthWindowSeconds: 300 };

export interface MetricsSettings {
  /** false: no listener. */
  readonly enabled: boolean;
  /** Where GET /metrics listens: never an app's port; 127.0.0.1 by default, so private unless opened on purpose. */
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
}

/** The defaults of METRICS_ENABLED, METRICS_HOST and METRICS_PORT (9464: the port OpenTelemetry's Prometheus exporter uses). */
export const DEFAULT_METRICS: MetricsSettings = { enabled: true, host: '127.0.0.1', port: 9464 };

/**
 * `run`: start-up runs the pending sessions migrations under their lock (one command: `npm start`).
 * `verify`: start-up only checks that none is pending and refuses to start, naming them, otherwise;
 * production runs `npm run migrate` as its own deploy step and starts the instances with verify.
 */
export const MIGRATIONS_AT_STARTUP_MODES = ['run', 'verify'] as const;
export type MigrationsAtStartup = (typeof MIGRATIONS_AT_STARTUP_MODES)[number];

export interface ShutdownSettings {
  /** How long the apps keep serving, with GET /health/ready at 503, before they close. */
  readonly drainSeconds: number;
  /** Longest the whole shutdown may take from the signal, drain included; past it the process exits 1. */
  readonly timeoutSeconds: number;
}

export interface RateLimitSettings {
  /** Window of the per-IP and per-account limits. */
  readonly windowSeconds: number;
  /** Requests per window to each limited route from one client IP (request.ip, under `trust proxy`). */
  readonly perIp: number;
  /** Requests per window to each limited route for one account (email, or refresh token). */
  readonly perAccount: number;
  /** Failed logins for one email within lockoutSeconds that lock it. */
  readonly lockoutThreshold: number;
  /** How long failed logins are counted, and how long a lock lasts. */
  readonly lockoutSeconds: number;
  /** Cap of the email-wide progressive delay between logins (from networks the account never signed in from). */
  readonly loginMaxDelaySeconds: number;
  /** Requests per window to each authenticated audited route for one user (revocations: 5 times). */
  readonly perUser: number;
  /** Requests per window to each authenticated audited route from one client IP (revocations: 5 times). */
  readonly perIpAuthenticated: number;
}

/** The production defaults, as documented in `.env.example`; the lockout's are the sessions library's. */
export const DEFAULT_RATE_LIMIT: RateLimitSettings = {
  windowSeconds: 60,
  perIp: 30,
  perAccount: 10,
  lockoutThreshold: SESSIONS_DEFAULTS.loginLockout.threshold,
  lockoutSeconds: SESSIONS_DEFAULTS.loginLockout.lockSeconds,
  loginMaxDelaySeconds: SESSIONS_DEFAULTS.loginLockout.maxDelaySeconds,
  perUser: 60,
  perIpAuthenticated: 600,
};

/** The defaults of HTTP_HEADERS_TIMEOUT_MS and HTTP_REQUEST_TIMEOUT_MS (Node's own: 60 s and 5 min). */
export const DEFAULT_HTTP_TIMEOUTS = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 } as const;

/**
 * The production defaults of SHUTDOWN_DRAIN_SECONDS and SHUTDOWN_TIMEOUT_SECONDS: 5 s for the load
 * balancers to see the failing readiness probe, and an end 5 s before Kubernetes' default
 * terminationGracePeriodSeconds (30) would SIGKILL the process, so its last line says what hung.
 */
export const DEFAULT_SHUTDOWN: ShutdownSettings = { drainSeconds: 5, timeoutSeconds: 25 };
