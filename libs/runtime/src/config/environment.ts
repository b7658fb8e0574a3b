import { type AccessTokenKeysOptions, SESSION_LIMIT_POLICIES, type SessionLimitPolicyName, SESSIONS_DEFAULTS } from '@app/sessions';
import { plainToInstance, Transform } from 'class-transformer';
import { randomBytes, type KeyObject } from 'node:crypto';
import {
  IsDefined,
  IsEmail,
  IsIn,
  IsOptional,
  Length,
  Matches,
  MinLength,
  NotEquals,
  ValidateBy,
  ValidateIf,
  ValidationArguments,
  validateSync,
} from 'class-validator';
import {
  got,
  IsBooleanFlag,
  IsByteSize,
  IsGreaterThanProperty,
  IsIntegerInRange,
  IsLessThanProperty,
  IsOriginList,
  IsTrustProxy,
  IsUrlWithScheme,
  toBoolean,
  toInteger,
  toOriginList,
  toTrustProxy,
  TrustProxy,
} from './environment-rules';
import { CACHE_STORE_KINDS, type CacheStoreKind } from '../cache/redis-cache-stores';
import { AUTH_CHECK_MODES, type AuthCheckMode } from '../benchmark/auth-check-modes';
import { LOG_LEVELS, type LogLevel } from '../logging/log-level';
import {
  DEFAULT_ADMIN_CONSOLE,
  DEFAULT_HTTP_TIMEOUTS,
  DEFAULT_METRICS,
  DEFAULT_RATE_LIMIT,
  DEFAULT_SHUTDOWN,
  MIGRATIONS_AT_STARTUP_MODES,
  type MigrationsAtStartup,
} from '../runtime-settings';
import { TRACING_VARIABLES, tracingVariableProblem, type TracingVariableName } from '../telemetry/tracing-environment';
import { ACCESS_TOKEN_SIGNING_ALGORITHMS, accessTokenKeys, sharedSecretFrom, type AccessTokenSigningAlgorithm } from './access-token-keys-environment';

export type { TrustProxy } from './environment-rules';

export const NODE_ENVS = ['development', 'test', 'production'] as const;

/** API_DOCS: whether the apps publish their OpenAPI documents. */
export const API_DOCS_MODES = ['on', 'off'] as const;
export type ApiDocsMode = (typeof API_DOCS_MODES)[number];
export type NodeEnv = (typeof NODE_ENVS)[number];

/** The sessions library's defaults and the runtime's own, as an operator would write them. */
const LIBRARY = SESSIONS_DEFAULTS;
const LIMITS = DEFAULT_RATE_LIMIT;
const text = (value: number | string): string => String(value);

/**
 * The access-token secret earlier versions used when ACCESS_TOKEN_SECRET was unset. It is
 * published in their source, so it is refused even when set explicitly. Development and test now
 * get a random secret per process instead.
 */
export const PUBLISHED_DEVELOPMENT_ACCESS_TOKEN_SECRET = 'development-only-access-token-secret-never-use-in-production';

const SESSION_TTL_RANGE = [3_600, 31_536_000] as const;

/** How the messages name production: NODE_ENV unset fails closed and counts as production. */
const IN_PRODUCTION = 'in production (NODE_ENV=production, or NODE_ENV unset)';

export interface EnvironmentVariable {
  readonly name: string;
  /** Used when the variable is unset or empty; absent when there is no default. */
  readonly default?: string;
  /** Used instead of `default` when NODE_ENV is development or test. */
  readonly developmentDefault?: string;
  readonly description: string;
}

/** Every variable the apps read, in the order of `.env.example`. Defaults are the strings an operator would write. */
export const ENVIRONMENT_VARIABLES = [
  {
    name: 'NODE_ENV',
    default: 'production',
    description: 'development, test or production; unset counts as production (npm start sets development when unset)',
  },
  { name: 'PORT', default: '3000', description: 'Port of the web API' },
  { name: 'ADMIN_PORT', default: '3001', description: 'Port of the admin console' },
  { name: 'HOST', default: '0.0.0.0', description: 'Address both apps listen on' },
  { name: 'DATABASE_URL', description: 'postgres:// URL; required in production; unset in development and test runs an embedded PostgreSQL (PGlite)' },
  { name: 'DATABASE_POOL_SIZE', default: '10', description: 'Connections per app, 1 to 100 (the embedded database always uses 1)' },
  { name: 'DATABASE_STATEMENT_TIMEOUT_MS', default: '5000', description: 'PostgreSQL statement_timeout; 0 disables it' },
  { name: 'EMBEDDED_DATA_DIR', description: 'Directory of the embedded database; unset keeps it in memory' },
  {
    name: 'REDIS_URL',
    description:
      'redis:// or rediss:// URL; required in production unless REDIS_CLUSTER_NODES is set or IN_PROCESS_CACHE_SINGLE_INSTANCE=true; unset keeps the cache in process memory',
  },
  {
    name: 'REDIS_CLUSTER_NODES',
    description: 'Redis Cluster seed nodes, comma-separated host:port (the rest is discovered); instead of REDIS_URL, with CACHE_STORE=keyv-redis only',
  },
  {
    name: 'IN_PROCESS_CACHE_SINGLE_INSTANCE',
    default: 'false',
    description:
      'true lets production run without REDIS_URL, with the cache in process memory: only for exactly one instance (another would accept a logged-out session for up to a minute)',
  },
  { name: 'CACHE_STORE', default: 'keyv-redis', description: 'Redis client: keyv-redis or redis-yet' },
  { name: 'CACHE_KEY_PREFIX', default: LIBRARY.cacheKeyPrefix, description: 'Prefix of every cache key; no braces' },
  { name: 'CACHE_TIMEOUT_MS', default: text(LIBRARY.cacheTimeoutMs), description: 'Longest wait for one cache call, 10 to 10000' },
  {
    name: 'ACCESS_TOKEN_ALGORITHM',
    default: 'HS256',
    description:
      'How access tokens are signed: HS256 (ACCESS_TOKEN_SECRET, verified by this service only), or EdDSA (Ed25519) or ES256 (P-256) with ACCESS_TOKEN_PRIVATE_KEY, whose public keys GET /.well-known/jwks.json publishes for services that verify tokens offline',
  },
  {
    name: 'ACCESS_TOKEN_SECRET',
    description:
      'HMAC secret for access tokens, 32+ characters; with HS256 only (refused with EdDSA or ES256); required in production; unset in development and test: a random secret per process',
  },
  {
    name: 'ACCESS_TOKEN_PRIVATE_KEY',
    description: 'EdDSA or ES256 only: the signing key, a PKCS#8 PEM (newlines may be written \\n); or ACCESS_TOKEN_PRIVATE_KEY_FILE, never both',
  },
  { name: 'ACCESS_TOKEN_PRIVATE_KEY_FILE', description: 'EdDSA or ES256 only: path of a file holding that PEM (a mounted secret)' },
  {
    name: 'ACCESS_TOKEN_KEY_ID',
    description: 'EdDSA or ES256 only, required: the kid of the signing key, in every token header and the JWKS; a new key gets a new id',
  },
  {
    name: 'ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS',
    description:
      'EdDSA or ES256 only, during a key rotation: JSON, the public keys that still verify (a JWK Set or an array of JWKs with kid and alg, or of {"kid","alg","pem"}); published in the JWKS until removed (README, Signing keys)',
  },
  { name: 'ACCESS_TOKEN_TTL_SECONDS', default: text(LIBRARY.lifetimes.accessTokenTtlSeconds), description: 'Access token lifetime, 60 to 86400' },
  {
    name: 'SESSION_TTL_SECONDS',
    default: text(LIBRARY.lifetimes.sessionTtlSeconds),
    description: 'Session lifetime, 3600 to 31536000, above the access token lifetime',
  },
  {
    name: 'ADMIN_SESSION_TTL_SECONDS',
    default: text(LIBRARY.lifetimes.consoleSessionTtlSeconds),
    description: 'Absolute lifetime of an admin console session (never extended), 300 to 31536000, below SESSION_TTL_SECONDS',
  },
  {
    name: 'ADMIN_REAUTH_WINDOW_SECONDS',
    default: text(DEFAULT_ADMIN_CONSOLE.reauthWindowSeconds),
    description:
      'How long a password entered again (or a console sign-in) allows destructive admin actions on another administrator or on several users at once, 10 to 3600',
  },
  { name: 'ARGON2_MEMORY_KIB', default: text(LIBRARY.passwordHashing.memoryCostKiB), description: 'Argon2id memory cost in KiB, at least 8192' },
  { name: 'ARGON2_TIME_COST', default: text(LIBRARY.passwordHashing.timeCost), description: 'Argon2id iterations, 1 to 10' },
  { name: 'ARGON2_PARALLELISM', default: text(LIBRARY.passwordHashing.parallelism), description: 'Argon2id lanes, 1 to 16' },
  {
    name: 'ADMIN_EMAIL',
    description:
      'First admin account, created at startup while no admin exists (never promotes an existing account: start-up stops if a non-admin has it); set together with ADMIN_PASSWORD',
  },
  { name: 'ADMIN_PASSWORD', description: 'Password of the first admin account, 8 to 128 characters' },
  {
    name: 'TRUST_PROXY',
    default: 'false',
    description: 'Proxies whose X-Forwarded-For is believed: false, a number of hops, or proxy IPs/CIDRs separated by commas (true is refused)',
  },
  { name: 'BODY_LIMIT', default: '16kb', description: 'Largest accepted request body' },
  {
    name: 'HTTP_HEADERS_TIMEOUT_MS',
    default: text(DEFAULT_HTTP_TIMEOUTS.headersTimeoutMs),
    description: 'Longest a client may take to send the request headers, 1000 to 300000',
  },
  {
    name: 'HTTP_REQUEST_TIMEOUT_MS',
    default: text(DEFAULT_HTTP_TIMEOUTS.requestTimeoutMs),
    description: 'Longest a client may take to send a whole request, body included, 1000 to 3600000, at least HTTP_HEADERS_TIMEOUT_MS',
  },
  {
    name: 'CORS_ORIGINS',
    description: 'Origins (scheme://host[:port], comma-separated, no * and no paths) whose pages may call the web API from a browser; unset: CORS off',
  },
  { name: 'ADMIN_CORS_ORIGINS', description: 'The same for the admin console, on its own list; unset: CORS off' },
  {
    name: 'HSTS_MAX_AGE_SECONDS',
    default: '0',
    description: 'Strict-Transport-Security max-age both apps send, 0 (off: leave HSTS to the TLS terminator) to 63072000',
  },
  {
    name: 'API_DOCS',
    default: 'off',
    developmentDefault: 'on',
    description:
      'on: both apps serve their OpenAPI document at /docs-json and Swagger UI at /docs; off: both paths answer 404. Default off in production, on in development and test',
  },
  {
    name: 'ADMIN_CONSOLE_ASSETS_DIR',
    description:
      'Directory of the built admin console page (index.html, console.js, console.css) served at / of ADMIN_PORT; unset: dist/console, what npm run build writes',
  },
  {
    name: 'SERVICE_CLIENTS',
    description:
      'Services that may read GET /revocations: comma-separated name:sha256, each the hex SHA-256 of the secret that service sends as its Bearer; unset: the feed refuses everyone',
  },
  {
    name: 'REFRESH_REUSE_GRACE_SECONDS',
    default: text(LIBRARY.refreshReuseGraceSeconds),
    description: 'How long the same client may retry a just-rotated refresh token without it counting as reuse, 0 to 60',
  },
  {
    name: 'SESSION_MAX_PER_USER',
    description:
      'Live web sessions one user may hold at once, a positive integer; unset: no cap. Console sessions are not counted. What a login past it does: SESSION_LIMIT_POLICY',
  },
  {
    name: 'SESSION_LIMIT_POLICY',
    default: LIBRARY.sessionLimit.policy,
    description:
      'evict_oldest: a login at SESSION_MAX_PER_USER ends the oldest sessions (revocations with reason session_limit_evicted); deny_new: the login is refused (409, session_limit_reached)',
  },
  {
    name: 'BENCHMARK_AUTH_CHECK',
    default: 'session',
    description: 'Benchmarks only: session (always in production), signature-only or no-cache (NODE_ENV development or test only)',
  },
  {
    name: 'INTERRUPTED_AFTER_SECONDS',
    default: text(LIBRARY.interruptedAfterSeconds),
    description:
      'Age after which an audited command with no outcome, from a process instance silent (no heartbeat, one every quarter of this) for as long, is closed as interrupted, 1 to 3600',
  },
  {
    name: 'SESSION_PURGE_INTERVAL_SECONDS',
    default: text(LIBRARY.sessionPurge.intervalSeconds),
    description:
      'Seconds between runs of the purge of expired sessions, their refresh tokens and stale login lockouts (one instance at a time runs it), 0 (off) to 31536000',
  },
  {
    name: 'SESSION_PURGE_MARGIN_SECONDS',
    default: text(LIBRARY.sessionPurge.marginSeconds),
    description:
      'How long past its absolute expiry a session (revoked or not: still listable in the admin console) and past its end a login lockout is kept before the purge deletes it, 0 to 315360000',
  },
  {
    name: 'SESSION_PURGE_BATCH_SIZE',
    default: text(LIBRARY.sessionPurge.batchSize),
    description: 'Rows the purge deletes per statement, each statement its own short transaction, 1 to 10000',
  },
  {
    name: 'AUDIT_SEAL_INTERVAL_SECONDS',
    default: text(LIBRARY.auditSealIntervalSeconds),
    description: 'How often the audit entries settled since the last seal are sealed into the chain of seals (docs/audit.md), 0 (never) to 86400',
  },
  {
    name: 'AUDIT_RETENTION_MONTHS',
    default: text(LIBRARY.auditRetention.months),
    description:
      'Months of audit trail kept: a monthly partition whose whole range is older is exported to AUDIT_EXPORT_DIR and dropped (docs/audit.md), 1 to 1200; at least 12 in production (PCI DSS 10.5.1)',
  },
  {
    name: 'AUDIT_EXPORT_DIR',
    description:
      'Absolute directory the exports of expired audit partitions are written to before they are dropped; unset: nothing is ever dropped (logged once)',
  },
  {
    name: 'AUDIT_MAINTENANCE_INTERVAL_SECONDS',
    default: text(LIBRARY.auditRetention.intervalSeconds),
    description: 'Seconds between runs that create the audit partitions ahead and apply the retention, 0 (only at start-up) to 86400',
  },
  {
    name: 'RATE_LIMIT_WINDOW_SECONDS',
    default: text(LIMITS.windowSeconds),
    description: 'Window of the login, refresh, logout and register rate limits, 1 to 86400',
  },
  { name: 'RATE_LIMIT_PER_IP', default: text(LIMITS.perIp), description: 'Requests per window to each of those routes from one client IP, 1 to 1000000' },
  {
    name: 'RATE_LIMIT_PER_ACCOUNT',
    default: text(LIMITS.perAccount),
    description:
      'Requests per window for one email (register) or one refresh token (refresh, logout); login has no per-email limit (see LOGIN_LOCKOUT_THRESHOLD), 1 to 1000000',
  },
  {
    name: 'LOGIN_LOCKOUT_THRESHOLD',
    default: text(LIBRARY.loginLockout.threshold),
    description:
      'Failed logins (and wrong current passwords) for one email from one network (IPv4 address, IPv6 /64) within LOGIN_LOCKOUT_SECONDS that lock that network out of it; from every network, the count after which each failure delays the next login, 1 to 1000',
  },
  {
    name: 'LOGIN_LOCKOUT_SECONDS',
    default: text(LIBRARY.loginLockout.lockSeconds),
    description: 'How long failed logins are counted, and how long a lock lasts, 1 to 86400',
  },
  {
    name: 'LOGIN_DELAY_MAX_SECONDS',
    default: text(LIBRARY.loginLockout.maxDelaySeconds),
    description: 'Cap of the email-wide progressive delay (1 s, 2 s, 4 s ...) between logins from networks the account never signed in from, 1 to 86400',
  },
  {
    name: 'RATE_LIMIT_PER_USER',
    default: text(LIMITS.perUser),
    description: 'Requests per window to each authenticated audited route (both apps) for one user; revocations get 5 times as many, 1 to 1000000',
  },
  {
    name: 'RATE_LIMIT_PER_IP_AUTHENTICATED',
    default: text(LIMITS.perIpAuthenticated),
    description: 'Requests per window to each authenticated audited route from one client IP; revocations get 5 times as many, 1 to 1000000',
  },
  // OpenTelemetry tracing, off unless configured (docs/tracing.md); the SDK reads them itself.
  ...TRACING_VARIABLES,
  {
    name: 'LOG_LEVEL',
    default: 'info',
    description: `Lowest level the apps log: ${LOG_LEVELS.join(', ')} (silent: nothing); JSON lines in production (docs/logging.md)`,
  },
  {
    name: 'MIGRATIONS_AT_STARTUP',
    default: 'run',
    description:
      'run: start-up runs the pending sessions migrations (under their lock); verify: start-up refuses to start, naming them, while any is pending (run `npm run migrate` as a deploy step first). The embedded database always runs them',
  },
  {
    name: 'SHUTDOWN_DRAIN_SECONDS',
    default: text(DEFAULT_SHUTDOWN.drainSeconds),
    developmentDefault: '0',
    description:
      'After SIGTERM or SIGINT, how long the apps keep serving while GET /health/ready answers 503 (so load balancers stop routing) before they close, 0 to 300; default 5 in production, 0 in development and test',
  },
  {
    name: 'SHUTDOWN_TIMEOUT_SECONDS',
    default: text(DEFAULT_SHUTDOWN.timeoutSeconds),
    description:
      'Longest the whole shutdown (drain included) may take from the signal; past it the process logs what was still pending and exits 1, 1 to 3600, above SHUTDOWN_DRAIN_SECONDS',
  },
  {
    name: 'METRICS_ENABLED',
    default: String(DEFAULT_METRICS.enabled),
    description: 'true serves Prometheus metrics at GET /metrics on a listener of its own (docs/metrics.md); false starts none',
  },
  {
    name: 'METRICS_HOST',
    default: DEFAULT_METRICS.host,
    description:
      'Address the metrics listener binds; 127.0.0.1 keeps it private to the host (a scraper in another container or host needs 0.0.0.0 or the pod address, behind a network policy)',
  },
  {
    name: 'METRICS_PORT',
    default: text(DEFAULT_METRICS.port),
    description: 'Port of the metrics listener, 0 (a free port) to 65535, never PORT or ADMIN_PORT; two processes on one host need two ports',
  },
] as const satisfies readonly EnvironmentVariable[];

export type EnvironmentVariableName = (typeof ENVIRONMENT_VARIABLES)[number]['name'];

/** Validated configuration, grouped the way the modules take it. */
export interface Environment {
  readonly nodeEnv: NodeEnv;
  readonly http: {
    readonly port: number;
    readonly adminPort: number;
    readonly host: string;
    /** Pass as `app.set('trust proxy', ...)`. */
    readonly trustProxy: TrustProxy;
    readonly bodyLimit: string;
    /** Node's server.headersTimeout and server.requestTimeout: a slow client cannot hold a connection longer. */
    readonly headersTimeoutMs: number;
    readonly requestTimeoutMs: number;
    /** Exact origins allowed to call each app from a browser (CORS); empty: CORS off. */
    readonly corsOrigins: { readonly web: readonly string[]; readonly admin: readonly string[] };
    /** 0: no Strict-Transport-Security header. */
    readonly hstsMaxAgeSeconds: number;
    /** OpenAPI at /docs and /docs-json. */
    readonly apiDocs: boolean;
    /** Absent: the admin console serves the build output (dist/console). */
    readonly consoleAssetsDir: string | undefined;
  };
  readonly database: {
    /** Absent: run the embedded database. */
    readonly url: string | undefined;
    readonly poolSize: number;
    readonly statementTimeoutMs: number;
    /** Absent: the embedded database lives in memory. */
    readonly embeddedDataDir: string | undefined;
  };
  readonly cache: {
    /** Absent: the cache lives in process memory (in production only with inProcessSingleInstance). */
    readonly redisUrl: string | undefined;
    /** Redis Cluster seeds (`host:port`) instead of redisUrl; absent with it. */
    readonly redisClusterNodes: readonly string[] | undefined;
    /** The operator's explicit opt-in to a production without Redis: exactly one instance runs. */
    readonly inProcessSingleInstance: boolean;
    readonly store: CacheStoreKind;
    readonly keyPrefix: string;
    readonly timeoutMs: number;
  };
  readonly accessToken: {
    /** With EdDSA or ES256: derived from the private key, for the console's CSRF tokens only (access tokens are signed with `keys`). */
    readonly secret: string;
    readonly ttlSeconds: number;
    /** The sessions library's accessTokenKeys; absent with HS256. */
    readonly keys: AccessTokenKeysOptions | undefined;
  };
  /** True when ACCESS_TOKEN_SECRET was unset (development and test only) and a random secret was made for this process: warn at startup. */
  readonly generatedAccessTokenSecret: boolean;
  readonly sessionTtlSeconds: number;
  readonly adminConsole: { readonly sessionTtlSeconds: number; readonly reauthWindowSeconds: number };
  /** Same shape as the sessions library's PasswordHashingOptions. */
  readonly passwordHashing: { readonly memoryCostKiB: number; readonly timeCost: number; readonly parallelism: number };
  readonly admin: { readonly email: string; readonly password: string } | undefined;
  readonly refreshReuseGraceSeconds: number;
  /** The services that may read the revocation feed: a name and the hex SHA-256 of its secret. */
  readonly serviceClients: ReadonlyArray<{ readonly name: string; readonly secretSha256: string }>;
  readonly interruptedAfterSeconds: number;
  /** The concurrent-session cap (the sessions library's sessionLimit option); maxPerUser null: no cap. */
  readonly sessionLimit: { readonly maxPerUser: number | null; readonly policy: SessionLimitPolicyName };
  /** The purge of expired sessions (the sessions library's sessionPurge options). */
  readonly sessionPurge: { readonly intervalSeconds: number; readonly marginSeconds: number; readonly batchSize: number };
  readonly auditSealIntervalSeconds: number;
  /** The audit trail's partitions and retention (the sessions library's auditRetention options). */
  readonly auditRetention: { readonly months: number; readonly exportDirectory: string | null; readonly intervalSeconds: number };
  /** Benchmarks only; always `session` in production. */
  readonly authCheck: AuthCheckMode;
  /** Limits of the sign-in routes and the login lockout. */
  readonly rateLimit: {
    readonly windowSeconds: number;
    readonly perIp: number;
    readonly perAccount: number;
    readonly lockoutThreshold: number;
    readonly lockoutSeconds: number;
    readonly loginMaxDelaySeconds: number;
    readonly perUser: number;
    readonly perIpAuthenticated: number;
  };
  /** The lowest level the apps' logger writes. */
  readonly logLevel: LogLevel;
  /** Whether start-up runs the pending sessions migrations or only checks that none is (the embedded database always runs them). */
  readonly migrationsAtStartup: MigrationsAtStartup;
  /** The shutdown sequence after SIGTERM or SIGINT (see serve). */
  readonly shutdown: { readonly drainSeconds: number; readonly timeoutSeconds: number };
  /** The Prometheus listener. */
  readonly metrics: { readonly enabled: boolean; readonly host: string; readonly port: number };
}

/**
 * The same check the tracing preload makes before deciding to start the SDK (it runs before this
 * schema, and leaves tracing off for a bad value): here the bad value stops start-up.
 */
function IsTracingVariable(): PropertyDecorator {
  return ValidateBy({
    name: 'isTracingVariable',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => tracingVariableProblem(args?.property as TracingVariableName, String(value)) === undefined,
      defaultMessage: (args?: ValidationArguments) =>
        tracingVariableProblem(args?.property as TracingVariableName, String(args?.value)) ?? `${args?.property} is invalid`,
    },
  });
}

/** `host:port` seeds; a hostname, an IPv4 address or a bracketed IPv6 one. */
const CLUSTER_NODE = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?):([0-9]{1,5})$/i;

/**
 * Why REDIS_CLUSTER_NODES cannot be used, or undefined. One cache connection per app: a cluster
 * and a URL together would leave which one holds the revocation markers to chance. keyv-redis only:
 * the library reads a cluster through @keyv/redis's node-redis 5 client; cache-manager-redis-yet's
 * cluster store carries node-redis 4, whose cluster client the library has no adapter for.
 */
function redisClusterNodesProblem(value: string, variables: EnvironmentVariables): string | undefined {
  if (variables.REDIS_URL !== undefined)
    return 'REDIS_CLUSTER_NODES and REDIS_URL are mutually exclusive: set one (a cluster is reached through its seed nodes)';
  if (variables.CACHE_STORE !== 'keyv-redis')
    return `REDIS_CLUSTER_NODES needs CACHE_STORE=keyv-redis (the Redis Cluster client is @keyv/redis's node-redis 5) ${got(variables.CACHE_STORE)}`;
  const nodes = value.split(',').map((node) => node.trim());
  const bad = nodes.find((node) => {
    const match = CLUSTER_NODE.exec(node);
    return !match || Number(match[3]) < 1 || Number(match[3]) > 65535;
  });
  if (bad !== undefined) return `REDIS_CLUSTER_NODES must be comma-separated host:port seeds (got "${bad}")`;
  return undefined;
}

const SERVICE_CLIENT = /^([A-Za-z0-9][A-Za-z0-9._-]{0,63}):([0-9a-f]{64})$/;

/** Why SERVICE_CLIENTS is refused, or undefined; never quotes a hash (it stands for a secret). */
function serviceClientsProblem(value: string): string | undefined {
  const entries = value.split(',').map((entry) => entry.trim());
  const names: string[] = [];
  for (const [index, entry] of entries.entries()) {
    const match = SERVICE_CLIENT.exec(entry);
    if (!match) {
      return `SERVICE_CLIENTS entry ${index + 1} must be name:sha256, a name of letters, digits, . _ - and the lower-case hex SHA-256 of the client's secret (64 characters; e.g. printf %s "$SECRET" | sha256sum)`;
    }
    if (names.includes(match[1])) return `SERVICE_CLIENTS names "${match[1]}" twice`;
    names.push(match[1]);
  }
  return undefined;
}

/** SERVICE_CLIENTS, parsed (validation already refused anything else). */
function toServiceClients(value: string | undefined): Array<{ name: string; secretSha256: string }> {
  if (value === undefined) return [];
  return value.split(',').map((entry) => {
    const [name, secretSha256] = entry.trim().split(':');
    return { name, secretSha256 };
  });
}

/** Lists every invalid variable, one per line, in `problems` as well as in the message. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';

  constructor(readonly problems: readonly string[]) {
    super(`Invalid environment configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** Only an explicit development or test relaxes anything: every other NODE_ENV is refused, and unset is production. */
const isProduction = (variables: EnvironmentVariables) => variables.NODE_ENV !== 'development' && variables.NODE_ENV !== 'test';
const hasAdmin = (variables: EnvironmentVariables) => variables.ADMIN_EMAIL !== undefined || variables.ADMIN_PASSWORD !== undefined;

/**
 * The variables after defaults and conversion, checked property by property. Values that fail a
 * conversion stay strings so that the message can quote them; secrets and URLs are never quoted.
 */
class EnvironmentVariables implements Record<EnvironmentVariableName, unknown> {
  @IsIn(NODE_ENVS, { message: (args) => `NODE_ENV must be one of ${NODE_ENVS.join(', ')} ${got(args.value)}` })
  NODE_ENV: NodeEnv;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 65535)
  PORT: number;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 65535)
  ADMIN_PORT: number;

  @Matches(/^\S+$/, { message: (args) => `HOST must be a host name or an IP address ${got(args.value)}` })
  HOST: string;

  @IsOptional()
  @IsUrlWithScheme(['postgres', 'postgresql'])
  DATABASE_URL: string | undefined;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 100)
  DATABASE_POOL_SIZE: number;

  // PostgreSQL's statement_timeout is an int of milliseconds.
  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(0, 2_147_483_647)
  DATABASE_STATEMENT_TIMEOUT_MS: number;

  @IsOptional()
  EMBEDDED_DATA_DIR: string | undefined;

  @IsOptional()
  @IsUrlWithScheme(['redis', 'rediss'])
  REDIS_URL: string | undefined;

  @IsOptional()
  @ValidateBy({
    name: 'redisClusterNodes',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => redisClusterNodesProblem(String(value), args?.object as EnvironmentVariables) === undefined,
      defaultMessage: (args?: ValidationArguments) =>
        redisClusterNodesProblem(String(args?.value), args?.object as EnvironmentVariables) ?? 'REDIS_CLUSTER_NODES is invalid',
    },
  })
  REDIS_CLUSTER_NODES: string | undefined;

  @Transform(({ value }) => toBoolean(value))
  @IsBooleanFlag()
  IN_PROCESS_CACHE_SINGLE_INSTANCE: boolean;

  @IsIn(CACHE_STORE_KINDS, { message: (args) => `CACHE_STORE must be one of ${CACHE_STORE_KINDS.join(', ')} ${got(args.value)}` })
  CACHE_STORE: CacheStoreKind;

  // Braces would move the Redis Cluster hash tag that keeps one user's keys in one slot.
  @Matches(/^[^{}]*$/, { message: (args) => `CACHE_KEY_PREFIX must not contain { or } ${got(args.value)}` })
  CACHE_KEY_PREFIX: string;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(10, 10_000)
  CACHE_TIMEOUT_MS: number;

  @IsIn(ACCESS_TOKEN_SIGNING_ALGORITHMS, {
    message: (args) => `ACCESS_TOKEN_ALGORITHM must be one of ${ACCESS_TOKEN_SIGNING_ALGORITHMS.join(', ')} ${got(args.value)}`,
  })
  ACCESS_TOKEN_ALGORITHM: AccessTokenSigningAlgorithm;

  // With EdDSA or ES256 a secret is refused by the signing keys' check (accessTokenKeys), not here.
  @ValidateIf(
    (variables: EnvironmentVariables) =>
      variables.ACCESS_TOKEN_ALGORITHM === 'HS256' && (isProduction(variables) || variables.ACCESS_TOKEN_SECRET !== undefined),
  )
  @IsDefined({ message: `ACCESS_TOKEN_SECRET is required ${IN_PRODUCTION}` })
  @MinLength(32, {
    message: (args) => `ACCESS_TOKEN_SECRET must be at least 32 characters long (got ${String(args.value).length})`,
  })
  @NotEquals(PUBLISHED_DEVELOPMENT_ACCESS_TOKEN_SECRET, { message: 'ACCESS_TOKEN_SECRET must not be the development secret published in earlier versions' })
  ACCESS_TOKEN_SECRET: string | undefined;

  // These four are checked together, with the algorithm, by accessTokenKeys.
  @IsOptional()
  ACCESS_TOKEN_PRIVATE_KEY: string | undefined;

  @IsOptional()
  ACCESS_TOKEN_PRIVATE_KEY_FILE: string | undefined;

  @IsOptional()
  ACCESS_TOKEN_KEY_ID: string | undefined;

  @IsOptional()
  ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS: string | undefined;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(60, 86_400)
  ACCESS_TOKEN_TTL_SECONDS: number;

  // class-validator runs a property's checks from the bottom up; with stopAtFirstError, the
  // range is reported before the comparison.
  @Transform(({ value }) => toInteger(value))
  @IsGreaterThanProperty('ACCESS_TOKEN_TTL_SECONDS')
  @IsIntegerInRange(...SESSION_TTL_RANGE)
  SESSION_TTL_SECONDS: number;

  // The console is the most privileged surface: its sessions are the shorter ones (checks run bottom-up).
  @Transform(({ value }) => toInteger(value))
  @IsLessThanProperty('SESSION_TTL_SECONDS', SESSION_TTL_RANGE)
  @IsIntegerInRange(300, 31_536_000)
  ADMIN_SESSION_TTL_SECONDS: number;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(10, 3_600)
  ADMIN_REAUTH_WINDOW_SECONDS: number;

  // Less than 8 MiB makes argon2id cheap to attack on GPUs; 2^32-1 KiB is the algorithm's own ceiling.
  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(8_192, 4_294_967_295)
  ARGON2_MEMORY_KIB: number;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 10)
  ARGON2_TIME_COST: number;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 16)
  ARGON2_PARALLELISM: number;

  @ValidateIf(hasAdmin)
  @IsDefined({ message: 'ADMIN_EMAIL must be set when ADMIN_PASSWORD is (set both or neither)' })
  @IsEmail({}, { message: (args) => `ADMIN_EMAIL must be an email address ${got(args.value)}` })
  ADMIN_EMAIL: string | undefined;

  @ValidateIf(hasAdmin)
  @IsDefined({ message: 'ADMIN_PASSWORD must be set when ADMIN_EMAIL is (set both or neither)' })
  @Length(8, 128, {
    message: (args) => `ADMIN_PASSWORD must be 8 to 128 characters long (got ${String(args.value).length})`,
  })
  ADMIN_PASSWORD: string | undefined;

  @Transform(({ value }) => toTrustProxy(value))
  @IsTrustProxy()
  TRUST_PROXY: TrustProxy;

  @IsByteSize()
  BODY_LIMIT: string;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1_000, 300_000)
  HTTP_HEADERS_TIMEOUT_MS: number;

  // Node checks the headers against the smaller of the two, so a smaller request timeout would
  // silently shorten the headers timeout (checks run bottom-up: the range first).
  @Transform(({ value }) => toInteger(value))
  @IsGreaterThanProperty('HTTP_HEADERS_TIMEOUT_MS', { orEqual: true })
  @IsIntegerInRange(1_000, 3_600_000)
  HTTP_REQUEST_TIMEOUT_MS: number;

  @IsOptional()
  @IsOriginList()
  CORS_ORIGINS: string | undefined;

  @IsOptional()
  @IsOriginList()
  ADMIN_CORS_ORIGINS: string | undefined;

  // Two years is what the HSTS preload list asks for; more only makes a mistake last longer.
  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(0, 63_072_000)
  HSTS_MAX_AGE_SECONDS: number;

  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsIn(API_DOCS_MODES, { message: (args) => `API_DOCS must be one of ${API_DOCS_MODES.join(', ')} ${got(args.value)}` })
  API_DOCS: ApiDocsMode;

  @IsOptional()
  ADMIN_CONSOLE_ASSETS_DIR: string | undefined;

  @IsOptional()
  @ValidateBy({
    name: 'serviceClients',
    validator: {
      validate: (value: unknown) => serviceClientsProblem(String(value)) === undefined,
      defaultMessage: (args?: ValidationArguments) => serviceClientsProblem(String(args?.value)) ?? 'SERVICE_CLIENTS is invalid',
    },
  })
  SERVICE_CLIENTS: string | undefined;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(0, 60)
  REFRESH_REUSE_GRACE_SECONDS: number;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 3_600)
  INTERRUPTED_AFTER_SECONDS: number;

  @IsOptional()
  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1)
  SESSION_MAX_PER_USER: number | undefined;

  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsIn(SESSION_LIMIT_POLICIES, { message: (args) => `SESSION_LIMIT_POLICY must be one of ${SESSION_LIMIT_POLICIES.join(', ')} ${got(args.value)}` })
  SESSION_LIMIT_POLICY: SessionLimitPolicyName;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(0, 31_536_000)
  SESSION_PURGE_INTERVAL_SECONDS: number;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(0, 315_360_000)
  SESSION_PURGE_MARGIN_SECONDS: number;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 10_000)
  SESSION_PURGE_BATCH_SIZE: number;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(0, 86_400)
  AUDIT_SEAL_INTERVAL_SECONDS: number;

  // Fewer than 12 months is for tests and trials: PCI DSS 10.5.1 asks for a year of audit trail.
  @ValidateBy({
    name: 'auditRetentionInProduction',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        !isProduction(args?.object as EnvironmentVariables) || (typeof value === 'number' && value >= 12),
      defaultMessage: (args?: ValidationArguments) => `AUDIT_RETENTION_MONTHS must be at least 12 ${IN_PRODUCTION} ${got(args?.value)}`,
    },
  })
  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 1_200)
  AUDIT_RETENTION_MONTHS: number;

  @IsOptional()
  @Matches(/^\//, { message: (args) => `AUDIT_EXPORT_DIR must be an absolute path ${got(args.value)}` })
  AUDIT_EXPORT_DIR: string | undefined;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(0, 86_400)
  AUDIT_MAINTENANCE_INTERVAL_SECONDS: number;

  // A weakened auth check must never reach production by a stray variable (checks run bottom-up).
  @ValidateBy({
    name: 'sessionCheckInProduction',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => !isProduction(args?.object as EnvironmentVariables) || value === 'session',
      defaultMessage: (args?: ValidationArguments) => `BENCHMARK_AUTH_CHECK must be "session" ${IN_PRODUCTION} ${got(args?.value)}`,
    },
  })
  @IsIn(AUTH_CHECK_MODES, { message: (args) => `BENCHMARK_AUTH_CHECK must be one of ${AUTH_CHECK_MODES.join(', ')} ${got(args.value)}` })
  BENCHMARK_AUTH_CHECK: AuthCheckMode;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 86_400)
  RATE_LIMIT_WINDOW_SECONDS: number;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 1_000_000)
  RATE_LIMIT_PER_IP: number;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 1_000_000)
  RATE_LIMIT_PER_ACCOUNT: number;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 1_000)
  LOGIN_LOCKOUT_THRESHOLD: number;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 86_400)
  LOGIN_LOCKOUT_SECONDS: number;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 86_400)
  LOGIN_DELAY_MAX_SECONDS: number;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 1_000_000)
  RATE_LIMIT_PER_USER: number;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(1, 1_000_000)
  RATE_LIMIT_PER_IP_AUTHENTICATED: number;

  @IsTracingVariable()
  OTEL_SDK_DISABLED: string;

  @IsOptional()
  @IsTracingVariable()
  OTEL_TRACES_EXPORTER: string | undefined;

  @IsOptional()
  @IsTracingVariable()
  OTEL_EXPORTER_OTLP_ENDPOINT: string | undefined;

  @IsOptional()
  @IsTracingVariable()
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: string | undefined;

  @IsTracingVariable()
  OTEL_EXPORTER_OTLP_PROTOCOL: string;

  @IsOptional()
  @IsTracingVariable()
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: string | undefined;

  @IsOptional()
  @IsTracingVariable()
  OTEL_EXPORTER_OTLP_HEADERS: string | undefined;

  @IsOptional()
  @IsTracingVariable()
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: string | undefined;

  @IsTracingVariable()
  OTEL_SERVICE_NAME: string;

  @IsOptional()
  @IsTracingVariable()
  OTEL_RESOURCE_ATTRIBUTES: string | undefined;

  @IsTracingVariable()
  OTEL_TRACES_SAMPLER: string;

  @IsOptional()
  @IsTracingVariable()
  OTEL_TRACES_SAMPLER_ARG: string | undefined;

  @IsIn(LOG_LEVELS, { message: (args) => `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} ${got(args.value)}` })
  LOG_LEVEL: LogLevel;

  @IsIn(MIGRATIONS_AT_STARTUP_MODES, { message: (args) => `MIGRATIONS_AT_STARTUP must be one of ${MIGRATIONS_AT_STARTUP_MODES.join(', ')} ${got(args.value)}` })
  MIGRATIONS_AT_STARTUP: MigrationsAtStartup;

  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(0, 300)
  SHUTDOWN_DRAIN_SECONDS: number;

  // The drain is part of the shutdown the timeout bounds: it must leave time to close (checks run bottom-up).
  @Transform(({ value }) => toInteger(value))
  @IsGreaterThanProperty('SHUTDOWN_DRAIN_SECONDS')
  @IsIntegerInRange(1, 3_600)
  SHUTDOWN_TIMEOUT_SECONDS: number;

  @Transform(({ value }) => toBoolean(value))
  @IsBooleanFlag()
  METRICS_ENABLED: boolean;

  @Matches(/^\S+$/, { message: (args) => `METRICS_HOST must be a host name or an IP address ${got(args.value)}` })
  METRICS_HOST: string;

  // On an app's port it would be public, or fail to listen (checks run bottom-up: the range first).
  @ValidateBy({
    name: 'notAnAppPort',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => {
        const variables = args?.object as EnvironmentVariables;
        return variables.METRICS_ENABLED !== true || value === 0 || (value !== variables.PORT && value !== variables.ADMIN_PORT);
      },
      defaultMessage: (args?: ValidationArguments) => `METRICS_PORT must not be PORT or ADMIN_PORT: metrics get a listener of their own ${got(args?.value)}`,
    },
  })
  @Transform(({ value }) => toInteger(value))
  @IsIntegerInRange(0, 65535)
  METRICS_PORT: number;
}

// Compile-time: the class declares exactly the listed variables, so `.env.example` cannot drift from the checks.
type Assert<T extends true> = T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type _ClassMatchesList = Assert<Same<keyof EnvironmentVariables, EnvironmentVariableName>>;

/**
 * Reads the apps' configuration from `env` (normally process.env): applies the defaults, checks
 * every variable and throws one ConfigurationError naming all that are wrong. An empty value
 * counts as unset, so a copied `.env.example` with blanks behaves like the defaults.
 */
export function loadEnvironment(env: Record<string, string | undefined>): Environment {
  const variables = plainToInstance(EnvironmentVariables, withDefaults(env));
  // One reason per variable: the first check that fails is the one worth fixing.
  const errors = validateSync(variables, { stopAtFirstError: true, forbidUnknownValues: true, validationError: { target: false } });
  const signing = accessTokenKeys(variables);
  const problems = [...errors.flatMap((error) => Object.values(error.constraints ?? {})), ...signing.problems, ...productionDependencyProblems(variables)];
  if (problems.length > 0) throw new ConfigurationError(problems);
  return toEnvironment(variables, signing.keys);
}

/**
 * Production runs on real dependencies, named together in one problem: an embedded database keeps
 * users and the append-only audit trail in memory, and a per-process cache lets another
 * instance accept a logged-out session until its entry expires. The in-process cache is allowed
 * only by an explicit IN_PROCESS_CACHE_SINGLE_INSTANCE=true; the embedded database never.
 */
function productionDependencyProblems(variables: EnvironmentVariables): string[] {
  if (!isProduction(variables)) return [];
  const missing: string[] = [];
  const why: string[] = [];
  if (variables.DATABASE_URL === undefined) {
    missing.push('DATABASE_URL');
    why.push(
      'without DATABASE_URL the service would run an in-memory embedded database, which production never allows (users and the audit trail would vanish on restart)',
    );
  }
  if (variables.REDIS_URL === undefined && variables.REDIS_CLUSTER_NODES === undefined && variables.IN_PROCESS_CACHE_SINGLE_INSTANCE !== true) {
    missing.push('REDIS_URL');
    why.push(
      'without REDIS_URL each process caches sessions on its own, so another instance accepts a logged-out session for up to a minute; if exactly one instance ever runs, set IN_PROCESS_CACHE_SINGLE_INSTANCE=true instead',
    );
  }
  if (missing.length === 0) return [];
  return [`${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required ${IN_PRODUCTION}: ${why.join('; ')}`];
}

function withDefaults(env: Record<string, string | undefined>): Partial<Record<EnvironmentVariableName, string>> {
  const values: Partial<Record<EnvironmentVariableName, string>> = {};
  for (const variable of ENVIRONMENT_VARIABLES) {
    const raw = env[variable.name];
    const value = raw === undefined || raw.trim() === '' ? defaultOf(variable, values) : raw;
    if (value !== undefined) values[variable.name] = value;
  }
  return values;
}

/** NODE_ENV comes first in the list, so `earlier` already holds it when a development default is asked for. */
function defaultOf(variable: EnvironmentVariable, earlier: Partial<Record<EnvironmentVariableName, string>>): string | undefined {
  const development = earlier.NODE_ENV === 'development' || earlier.NODE_ENV === 'test';
  if (development && variable.developmentDefault !== undefined) return variable.developmentDefault;
  return variable.default;
}

function toEnvironment(variables: EnvironmentVariables, keys: AccessTokenKeysOptions | undefined): Environment {
  const admin =
    variables.ADMIN_EMAIL !== undefined && variables.ADMIN_PASSWORD !== undefined
      ? { email: variables.ADMIN_EMAIL, password: variables.ADMIN_PASSWORD }
      : undefined;
  return {
    nodeEnv: variables.NODE_ENV,
    http: {
      port: variables.PORT,
      adminPort: variables.ADMIN_PORT,
      host: variables.HOST,
      trustProxy: variables.TRUST_PROXY,
      bodyLimit: variables.BODY_LIMIT,
      headersTimeoutMs: variables.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: variables.HTTP_REQUEST_TIMEOUT_MS,
      corsOrigins: { web: toOriginList(variables.CORS_ORIGINS), admin: toOriginList(variables.ADMIN_CORS_ORIGINS) },
      hstsMaxAgeSeconds: variables.HSTS_MAX_AGE_SECONDS,
      apiDocs: variables.API_DOCS === 'on',
      consoleAssetsDir: variables.ADMIN_CONSOLE_ASSETS_DIR,
    },
    database: {
      url: variables.DATABASE_URL,
      poolSize: variables.DATABASE_POOL_SIZE,
      statementTimeoutMs: variables.DATABASE_STATEMENT_TIMEOUT_MS,
      embeddedDataDir: variables.EMBEDDED_DATA_DIR,
    },
    cache: {
      redisUrl: variables.REDIS_URL,
      redisClusterNodes: variables.REDIS_CLUSTER_NODES?.split(',').map((node) => node.trim()),
      inProcessSingleInstance: variables.IN_PROCESS_CACHE_SINGLE_INSTANCE,
      store: variables.CACHE_STORE,
      keyPrefix: variables.CACHE_KEY_PREFIX,
      timeoutMs: variables.CACHE_TIMEOUT_MS,
    },
    accessToken: {
      // Reached only in development and test (validation requires the variable elsewhere): a
      // secret nobody knows, so no token survives the process or verifies in another one.
      secret: keys ? sharedSecretFrom(keys.privateKey as KeyObject) : (variables.ACCESS_TOKEN_SECRET ?? randomBytes(32).toString('base64url')),
      ttlSeconds: variables.ACCESS_TOKEN_TTL_SECONDS,
      keys,
    },
    generatedAccessTokenSecret: keys === undefined && variables.ACCESS_TOKEN_SECRET === undefined,
    sessionTtlSeconds: variables.SESSION_TTL_SECONDS,
    adminConsole: { sessionTtlSeconds: variables.ADMIN_SESSION_TTL_SECONDS, reauthWindowSeconds: variables.ADMIN_REAUTH_WINDOW_SECONDS },
    passwordHashing: {
      memoryCostKiB: variables.ARGON2_MEMORY_KIB,
      timeCost: variables.ARGON2_TIME_COST,
      parallelism: variables.ARGON2_PARALLELISM,
    },
    admin,
    refreshReuseGraceSeconds: variables.REFRESH_REUSE_GRACE_SECONDS,
    serviceClients: toServiceClients(variables.SERVICE_CLIENTS),
    interruptedAfterSeconds: variables.INTERRUPTED_AFTER_SECONDS,
    sessionLimit: { maxPerUser: variables.SESSION_MAX_PER_USER ?? null, policy: variables.SESSION_LIMIT_POLICY },
    sessionPurge: {
      intervalSeconds: variables.SESSION_PURGE_INTERVAL_SECONDS,
      marginSeconds: variables.SESSION_PURGE_MARGIN_SECONDS,
      batchSize: variables.SESSION_PURGE_BATCH_SIZE,
    },
    auditSealIntervalSeconds: variables.AUDIT_SEAL_INTERVAL_SECONDS,
    auditRetention: {
      months: variables.AUDIT_RETENTION_MONTHS,
      exportDirectory: variables.AUDIT_EXPORT_DIR ?? null,
      intervalSeconds: variables.AUDIT_MAINTENANCE_INTERVAL_SECONDS,
    },
    authCheck: variables.BENCHMARK_AUTH_CHECK,
    rateLimit: {
      windowSeconds: variables.RATE_LIMIT_WINDOW_SECONDS,
      perIp: variables.RATE_LIMIT_PER_IP,
      perAccount: variables.RATE_LIMIT_PER_ACCOUNT,
      lockoutThreshold: variables.LOGIN_LOCKOUT_THRESHOLD,
      lockoutSeconds: variables.LOGIN_LOCKOUT_SECONDS,
      loginMaxDelaySeconds: variables.LOGIN_DELAY_MAX_SECONDS,
      perUser: variables.RATE_LIMIT_PER_USER,
      perIpAuthenticated: variables.RATE_LIMIT_PER_IP_AUTHENTICATED,
    },
    logLevel: variables.LOG_LEVEL,
    migrationsAtStartup: variables.MIGRATIONS_AT_STARTUP,
    shutdown: { drainSeconds: variables.SHUTDOWN_DRAIN_SECONDS, timeoutSeconds: variables.SHUTDOWN_TIMEOUT_SECONDS },
    metrics: { enabled: variables.METRICS_ENABLED, host: variables.METRICS_HOST, port: variables.METRICS_PORT },
  };
}
