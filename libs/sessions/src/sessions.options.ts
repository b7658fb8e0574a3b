import { isAbsolute } from 'node:path';
import type { AccessTokenKeysOptions } from './application/ports/access-token.port';
import { DEFAULT_LOGIN_LOCKOUT, type LoginLockoutPolicy } from './application/ports/login-attempts.port';
import type { PasswordHasher } from './application/ports/password-hasher.port';
import { NOOP_SESSIONS_OBSERVER, type SessionsObserver } from './application/observer/sessions-observer';
import { SessionsConfigurationError } from './domain/sessions-error';
import { DEFAULT_LIFETIMES, type SessionLifetimes } from './domain/session-rules';
import { NO_SESSION_LIMIT, SESSION_LIMIT_POLICIES, type SessionLimit } from './domain/session-limit';
import { DEFAULT_SESSIONS_SCHEMA, sessionsSchemaProblem } from './infrastructure/typeorm/schema-name';
import { hashTagProblem } from './infrastructure/redis/key-prefix';

/** Argon2id parameters; the defaults are OWASP's first recommended set (19 MiB, t=2, p=1). */
export interface PasswordHashingOptions {
  readonly memoryCostKiB: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** The background purge of expired sessions: every instance schedules it, one at a time runs it. */
/** The audit trail's monthly partitions and their retention (docs/audit.md, "Partitions and retention"). */
export interface AuditRetentionOptions {
  /** Months kept (1 to 1200): a partition is exported and dropped once its whole range is older. Default 13. */
  readonly months: number;
  /** Absolute directory the exports are written to; null (the default): nothing is ever dropped, a warning says so once. */
  readonly exportDirectory: string | null;
  /** Seconds between maintenance runs (partitions ahead, then retention), 0 to 86400; 0: only the creation at start-up. Default 3600. */
  readonly intervalSeconds: number;
  /** Months created ahead of the current one, 1 to 12. Default 3. */
  readonly partitionsAhead: number;
}

export interface SessionPurgeOptions {
  /** Seconds between runs, the first one interval after start-up; 0 turns the purge off. Default 3600. */
  readonly intervalSeconds: number;
  /**
   * How long past its absolute expiry a session is kept (revoked or not, it stays listable in the
   * admin console), and a login lockout past its end or its clearing. Default 7 days.
   */
  readonly marginSeconds: number;
  /** Rows deleted per statement, each statement its own transaction. Default 500. */
  readonly batchSize: number;
  /** Pause between batches, so autovacuum and replicas keep up. Default 100 ms. */
  readonly pauseMs: number;
  /** Batches per run at most; the next run goes on from there. Default 1000. */
  readonly maxBatchesPerRun: number;
}

/** `run`: the library applies its pending migrations at start-up; `verify`: it only checks that none is pending. */
export type SessionsMigrationsMode = 'run' | 'verify';

/**
 * What a host passes to `SessionsModule.forRoot(...)` (or returns from its `forRootAsync` factory).
 * Everything has a default (SESSIONS_DEFAULTS) except the access-token signing key. The library
 * reads no process.env: the host validates its own configuration and passes typed options in.
 */
export interface SessionsModuleOptions {
  /** HMAC secret for access tokens (HS256), at least 32 characters. Required unless `accessTokenKeys` is set, and then not used. */
  readonly accessTokenSecret?: string;
  // --- Override points: the access-token signer and the password hasher (docs/overrides.md) ---
  /**
   * Sign access tokens with an asymmetric key (EdDSA or ES256) instead of the HS256 secret, so
   * other services can verify them offline against the JWKS (`AccessTokenKeys.jwks()`).
   * Default: none (HS256 with `accessTokenSecret`).
   */
  readonly accessTokenKeys?: AccessTokenKeysOptions;
  /**
   * The host's own password hasher, used instead of argon2id with `passwordHashing` (e.g. one
   * that also verifies legacy bcrypt hashes). A login whose hash `needsRehash` stores `hash()` of
   * the password it verified. Default: Argon2PasswordHasher.
   */
  readonly passwordHasher?: PasswordHasher;
  // --- end of override points ---

  /** Token and session lifetimes; each field defaults on its own. */
  readonly lifetimes?: Partial<SessionLifetimes>;
  readonly passwordHashing?: Partial<PasswordHashingOptions>;
  /** Prefix of every key the library writes to Redis; lets several deployments or tests share one. No braces. */
  readonly cacheKeyPrefix?: string;
  /** How long one cache call may take before the auth check falls back to PostgreSQL. */
  readonly cacheTimeoutMs?: number;
  /** How often the session cache is probed (and repaired, and its queued markers written). */
  readonly cacheHeartbeatMs?: number;
  /**
   * Write queued revocation markers as soon as PostgreSQL notifies them (LISTEN on a connection
   * of its own). An embedded database that serves one session on all its sockets cannot: set false.
   */
  readonly cacheMarkerNotifications?: boolean;
  /**
   * How long the client that rotated a refresh token may present it again (several tabs
   * refreshing at once) and get a new pair instead of tripping reuse detection.
   */
  readonly refreshReuseGraceSeconds?: number;
  /**
   * Age after which an Attempted audit entry with no outcome is closed as Failed `interrupted`
   * (the process died mid-command), if its process instance has not beaten for as long either;
   * each instance beats every quarter of this.
   */
  readonly interruptedAfterSeconds?: number;
  /**
   * How often the audit trail's settled entries are sealed (docs/audit.md); 0 never seals (the
   * host runs sealAuditEntries itself). Every instance tries; one seals at a time.
   */
  readonly auditSealIntervalSeconds?: number;
  /** The login lockout policy (see LoginLockoutPolicy); each field defaults on its own. */
  readonly loginLockout?: Partial<LoginLockoutPolicy>;
  /**
   * The background purge of sessions (and their refresh tokens) past their absolute expiry plus
   * a margin, and of stale login lockouts; each field defaults on its own (see SessionPurgeOptions).
   */
  readonly sessionPurge?: Partial<SessionPurgeOptions>;
  /** The audit trail's partitions and retention; each field defaults on its own (see AuditRetentionOptions). */
  readonly auditRetention?: Partial<AuditRetentionOptions>;
  /**
   * The concurrent-session cap: `maxPerUser` live web sessions per user (a positive integer, or
   * null, the default: no cap), and what a login past it does, `policy`: `evict_oldest` (the
   * default) ends the oldest sessions, as revocations with reason `session_limit_evicted`;
   * `deny_new` refuses the login (`session_limit_reached`). Console sessions are not counted.
   */
  readonly sessionLimit?: Partial<SessionLimit>;
  /**
   * The host runs exactly one instance, so a cache store that is not shared (not Redis) is
   * acceptable. Without it, start-up fails on such a store: revocations made on one instance
   * would not reach the others.
   */
  readonly singleInstance?: boolean;
  /** PostgreSQL schema of the library's tables and of its migrations table. */
  readonly schema?: string;
  readonly migrations?: SessionsMigrationsMode;
  /**
   * Told of what no event says (auth-check outcomes, audit writes retried or given up, the
   * cache's trust), for the host's metrics; see SessionsObserver. Default: does nothing.
   */
  readonly observer?: SessionsObserver;
}

/**
 * The module's options with every default applied and every value checked: what the library's
 * own providers read (under SESSIONS_OPTIONS). Never handed to a host.
 */
export interface ResolvedSessionsOptions {
  /** Absent only when accessTokenKeys signs instead. */
  readonly accessTokenSecret: string | undefined;
  readonly accessTokenKeys: AccessTokenKeysOptions | undefined;
  readonly passwordHasher: PasswordHasher | undefined;
  readonly lifetimes: SessionLifetimes;
  readonly passwordHashing: PasswordHashingOptions;
  readonly cacheKeyPrefix: string;
  readonly cacheTimeoutMs: number;
  readonly cacheHeartbeatMs: number;
  readonly cacheMarkerNotifications: boolean;
  readonly refreshReuseGraceSeconds: number;
  readonly interruptedAfterSeconds: number;
  readonly auditSealIntervalSeconds: number;
  readonly loginLockout: LoginLockoutPolicy;
  readonly sessionPurge: SessionPurgeOptions;
  readonly auditRetention: AuditRetentionOptions;
  readonly sessionLimit: SessionLimit;
  readonly singleInstance: boolean;
  readonly schema: string;
  readonly migrations: SessionsMigrationsMode;
  readonly observer: SessionsObserver;
}

/**
 * Every default of the library, in one place: the module applies them, and a host that
 * configures from its environment takes its own defaults from here instead of copying them.
 * (The lifetimes and the lockout policy are defined beside their rules and only referenced here.)
 */
export const SESSIONS_DEFAULTS: Readonly<Omit<ResolvedSessionsOptions, 'accessTokenSecret' | 'accessTokenKeys' | 'passwordHasher' | 'observer'>> = deepFreeze({
  lifetimes: DEFAULT_LIFETIMES,
  passwordHashing: { memoryCostKiB: 19_456, timeCost: 2, parallelism: 1 },
  cacheKeyPrefix: 'sessions:',
  cacheTimeoutMs: 250,
  cacheHeartbeatMs: 1_000,
  cacheMarkerNotifications: true,
  refreshReuseGraceSeconds: 5,
  interruptedAfterSeconds: 60,
  auditSealIntervalSeconds: 300,
  loginLockout: DEFAULT_LOGIN_LOCKOUT,
  sessionPurge: { intervalSeconds: 3_600, marginSeconds: 7 * 24 * 3_600, batchSize: 500, pauseMs: 100, maxBatchesPerRun: 1_000 },
  auditRetention: { months: 13, exportDirectory: null, intervalSeconds: 3_600, partitionsAhead: 3 },
  sessionLimit: NO_SESSION_LIMIT,
  singleInstance: false,
  schema: DEFAULT_SESSIONS_SCHEMA,
  migrations: 'run',
});

/** The resolved options, for the library's own providers. Internal: it holds the signing secret. */
export const SESSIONS_OPTIONS = Symbol('ResolvedSessionsOptions');

const MIN_SECRET_LENGTH = 32;

/**
 * Module extras: they shape the module itself, so they are passed next to `useFactory`, never
 * returned from it.
 */
const EXTRA_KEYS = ['isGlobal', 'dataSourceName'];

/**
 * Applies the defaults and checks every value; throws one SessionsConfigurationError naming
 * every bad field (secrets are never quoted).
 */
export function resolveSessionsOptions(input: SessionsModuleOptions | null | undefined): ResolvedSessionsOptions {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new SessionsConfigurationError('SessionsModule options must be an object (at least { accessTokenSecret })', ['options must be an object']);
  }
  const check = new Checker();
  check.knownKeys(input, OPTION_KEYS, '', (key) =>
    EXTRA_KEYS.includes(key) ? `${key} is a module extra: pass it to forRootAsync next to useFactory, not in the options it returns` : undefined,
  );

  const { accessTokenSecret, accessTokenKeys } = resolveSigning(input, check);
  const passwordHasher = check.value('passwordHasher', input.passwordHasher, undefined, (value) =>
    value !== null &&
    typeof value === 'object' &&
    ['hash', 'verify', 'needsRehash'].every((method) => typeof (value as Record<string, unknown>)[method] === 'function')
      ? undefined
      : 'must be a PasswordHasher (an object with hash, verify and needsRehash)',
  );
  const lifetimes = {
    accessTokenTtlSeconds: check.integer(
      'lifetimes.accessTokenTtlSeconds',
      input.lifetimes?.accessTokenTtlSeconds,
      SESSIONS_DEFAULTS.lifetimes.accessTokenTtlSeconds,
      1,
      31_536_000,
    ),
    sessionTtlSeconds: check.integer(
      'lifetimes.sessionTtlSeconds',
      input.lifetimes?.sessionTtlSeconds,
      SESSIONS_DEFAULTS.lifetimes.sessionTtlSeconds,
      1,
      315_360_000,
    ),
    activeCacheTtlSeconds: check.integer(
      'lifetimes.activeCacheTtlSeconds',
      input.lifetimes?.activeCacheTtlSeconds,
      SESSIONS_DEFAULTS.lifetimes.activeCacheTtlSeconds,
      1,
      86_400,
    ),
    consoleSessionTtlSeconds: check.integer(
      'lifetimes.consoleSessionTtlSeconds',
      input.lifetimes?.consoleSessionTtlSeconds,
      SESSIONS_DEFAULTS.lifetimes.consoleSessionTtlSeconds,
      1,
      315_360_000,
    ),
  };
  // A host with short sessions that never names the console's lifetime is not refused for it: the
  // console's sessions then last no longer than its others.
  if (input.lifetimes?.consoleSessionTtlSeconds === undefined) {
    lifetimes.consoleSessionTtlSeconds = Math.min(lifetimes.consoleSessionTtlSeconds, lifetimes.sessionTtlSeconds);
  }
  if (input.lifetimes !== undefined) check.knownKeys(input.lifetimes, Object.keys(SESSIONS_DEFAULTS.lifetimes), 'lifetimes.');
  if (lifetimes.sessionTtlSeconds <= lifetimes.accessTokenTtlSeconds && check.isFine('lifetimes.')) {
    check.problem(
      `lifetimes.sessionTtlSeconds must be greater than lifetimes.accessTokenTtlSeconds (got ${lifetimes.sessionTtlSeconds} and ${lifetimes.accessTokenTtlSeconds}): a refresh must outlive the token it renews`,
    );
  }
  if (
    input.lifetimes?.consoleSessionTtlSeconds !== undefined &&
    lifetimes.consoleSessionTtlSeconds >= lifetimes.sessionTtlSeconds &&
    check.isFine('lifetimes.')
  ) {
    check.problem(
      `lifetimes.consoleSessionTtlSeconds must be less than lifetimes.sessionTtlSeconds (got ${lifetimes.consoleSessionTtlSeconds} and ${lifetimes.sessionTtlSeconds}): an admin console session is the shorter one`,
    );
  }

  const parallelism = check.integer('passwordHashing.parallelism', input.passwordHashing?.parallelism, SESSIONS_DEFAULTS.passwordHashing.parallelism, 1, 255);
  const passwordHashing = {
    // argon2 needs at least 8 KiB per lane; below 1 MiB a hash is cheap to attack.
    memoryCostKiB: check.integer(
      'passwordHashing.memoryCostKiB',
      input.passwordHashing?.memoryCostKiB,
      SESSIONS_DEFAULTS.passwordHashing.memoryCostKiB,
      Math.max(1_024, 8 * parallelism),
      4_294_967_295,
    ),
    timeCost: check.integer('passwordHashing.timeCost', input.passwordHashing?.timeCost, SESSIONS_DEFAULTS.passwordHashing.timeCost, 1, 100),
    parallelism,
  };
  if (input.passwordHashing !== undefined) check.knownKeys(input.passwordHashing, Object.keys(SESSIONS_DEFAULTS.passwordHashing), 'passwordHashing.');

  const cacheKeyPrefix = check.value('cacheKeyPrefix', input.cacheKeyPrefix, SESSIONS_DEFAULTS.cacheKeyPrefix, (value) =>
    typeof value !== 'string'
      ? 'must be a string'
      : hashTagProblem(value)
        ? `${hashTagProblem(value)} (got ${JSON.stringify(value)})`
        : value.length > 200
          ? `must be at most 200 characters (got ${value.length})`
          : undefined,
  );

  const loginLockout = {
    threshold: check.integer('loginLockout.threshold', input.loginLockout?.threshold, SESSIONS_DEFAULTS.loginLockout.threshold, 1, 1_000_000),
    lockSeconds: check.integer('loginLockout.lockSeconds', input.loginLockout?.lockSeconds, SESSIONS_DEFAULTS.loginLockout.lockSeconds, 1, 31_536_000),
    maxDelaySeconds: check.integer(
      'loginLockout.maxDelaySeconds',
      input.loginLockout?.maxDelaySeconds,
      SESSIONS_DEFAULTS.loginLockout.maxDelaySeconds,
      1,
      31_536_000,
    ),
  };
  if (input.loginLockout !== undefined) check.knownKeys(input.loginLockout, Object.keys(SESSIONS_DEFAULTS.loginLockout), 'loginLockout.');

  const purgeInput = input.sessionPurge;
  const purgeDefaults = SESSIONS_DEFAULTS.sessionPurge;
  const sessionPurge = {
    intervalSeconds: check.integer('sessionPurge.intervalSeconds', purgeInput?.intervalSeconds, purgeDefaults.intervalSeconds, 0, 31_536_000),
    marginSeconds: check.integer('sessionPurge.marginSeconds', purgeInput?.marginSeconds, purgeDefaults.marginSeconds, 0, 315_360_000),
    batchSize: check.integer('sessionPurge.batchSize', purgeInput?.batchSize, purgeDefaults.batchSize, 1, 10_000),
    pauseMs: check.integer('sessionPurge.pauseMs', purgeInput?.pauseMs, purgeDefaults.pauseMs, 0, 60_000),
    maxBatchesPerRun: check.integer('sessionPurge.maxBatchesPerRun', purgeInput?.maxBatchesPerRun, purgeDefaults.maxBatchesPerRun, 1, 1_000_000),
  };
  if (purgeInput !== undefined) check.knownKeys(purgeInput, Object.keys(purgeDefaults), 'sessionPurge.');

  const retentionInput = input.auditRetention;
  const retentionDefaults = SESSIONS_DEFAULTS.auditRetention;
  const auditRetention: AuditRetentionOptions = {
    months: check.integer('auditRetention.months', retentionInput?.months, retentionDefaults.months, 1, 1_200),
    exportDirectory: check.value('auditRetention.exportDirectory', retentionInput?.exportDirectory, retentionDefaults.exportDirectory, (value) =>
      value === null || (typeof value === 'string' && isAbsolute(value)) ? undefined : `must be an absolute path or null (got ${JSON.stringify(value)})`,
    ),
    intervalSeconds: check.integer('auditRetention.intervalSeconds', retentionInput?.intervalSeconds, retentionDefaults.intervalSeconds, 0, 86_400),
    partitionsAhead: check.integer('auditRetention.partitionsAhead', retentionInput?.partitionsAhead, retentionDefaults.partitionsAhead, 1, 12),
  };
  if (retentionInput !== undefined) check.knownKeys(retentionInput, Object.keys(retentionDefaults), 'auditRetention.');

  const limitInput = input.sessionLimit;
  const sessionLimit: SessionLimit = {
    maxPerUser: check.value('sessionLimit.maxPerUser', limitInput?.maxPerUser, SESSIONS_DEFAULTS.sessionLimit.maxPerUser, (value) =>
      value === null || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1)
        ? undefined
        : `must be a positive integer or null (no cap) (got ${JSON.stringify(value)})`,
    ),
    policy: check.value('sessionLimit.policy', limitInput?.policy, SESSIONS_DEFAULTS.sessionLimit.policy, (value) =>
      SESSION_LIMIT_POLICIES.includes(value as SessionLimit['policy']) ? undefined : `must be 'evict_oldest' or 'deny_new' (got ${JSON.stringify(value)})`,
    ),
  };
  if (limitInput !== undefined) check.knownKeys(limitInput, Object.keys(SESSIONS_DEFAULTS.sessionLimit), 'sessionLimit.');

  const resolved: ResolvedSessionsOptions = {
    accessTokenSecret,
    accessTokenKeys,
    passwordHasher,
    lifetimes,
    passwordHashing,
    cacheKeyPrefix,
    cacheTimeoutMs: check.integer('cacheTimeoutMs', input.cacheTimeoutMs, SESSIONS_DEFAULTS.cacheTimeoutMs, 1, 60_000),
    cacheHeartbeatMs: check.integer('cacheHeartbeatMs', input.cacheHeartbeatMs, SESSIONS_DEFAULTS.cacheHeartbeatMs, 10, 86_400_000),
    cacheMarkerNotifications: check.boolean('cacheMarkerNotifications', input.cacheMarkerNotifications, SESSIONS_DEFAULTS.cacheMarkerNotifications),
    refreshReuseGraceSeconds: check.integer('refreshReuseGraceSeconds', input.refreshReuseGraceSeconds, SESSIONS_DEFAULTS.refreshReuseGraceSeconds, 0, 3_600),
    interruptedAfterSeconds: check.integer('interruptedAfterSeconds', input.interruptedAfterSeconds, SESSIONS_DEFAULTS.interruptedAfterSeconds, 1, 86_400),
    auditSealIntervalSeconds: check.integer('auditSealIntervalSeconds', input.auditSealIntervalSeconds, SESSIONS_DEFAULTS.auditSealIntervalSeconds, 0, 86_400),
    loginLockout,
    sessionPurge,
    auditRetention,
    sessionLimit,
    singleInstance: check.boolean('singleInstance', input.singleInstance, SESSIONS_DEFAULTS.singleInstance),
    schema: check.value('schema', input.schema, SESSIONS_DEFAULTS.schema, sessionsSchemaProblem),
    migrations: check.value('migrations', input.migrations, SESSIONS_DEFAULTS.migrations, (value) =>
      value === 'run' || value === 'verify' ? undefined : `must be 'run' or 'verify' (got ${JSON.stringify(value)})`,
    ),
    observer: check.value('observer', input.observer, NOOP_SESSIONS_OBSERVER, (value) =>
      value !== null &&
      typeof value === 'object' &&
      ['authCheck', 'auditWrite', 'cacheTrust'].every((method) => typeof (value as Record<string, unknown>)[method] === 'function')
        ? undefined
        : 'must be a SessionsObserver (an object with authCheck, auditWrite and cacheTrust)',
    ),
  };
  check.throwIfAny();
  return resolved;
}

/**
 * How access tokens are signed: with the HS256 secret, or with accessTokenKeys (their keys are
 * checked where they are parsed, in the security providers).
 */
function resolveSigning(input: SessionsModuleOptions, check: Checker): Pick<ResolvedSessionsOptions, 'accessTokenSecret' | 'accessTokenKeys'> {
  const keys = input.accessTokenKeys;
  if (keys !== undefined && (keys === null || typeof keys !== 'object'))
    check.problem('accessTokenKeys must be an object ({ algorithm, keyId, privateKey, previousPublicKeys? })');
  const secret = input.accessTokenSecret;
  if (secret === undefined) {
    if (keys === undefined)
      check.problem(
        `accessTokenSecret is required: an HMAC secret (HS256) of at least ${MIN_SECRET_LENGTH} characters (or accessTokenKeys, to sign with EdDSA or ES256)`,
      );
    return { accessTokenSecret: undefined, accessTokenKeys: keys };
  }
  if (typeof secret !== 'string') {
    check.problem('accessTokenSecret must be a string');
    return { accessTokenSecret: undefined, accessTokenKeys: keys };
  }
  // The value is never quoted: it is a secret.
  if (secret.length < MIN_SECRET_LENGTH) check.problem(`accessTokenSecret must be at least ${MIN_SECRET_LENGTH} characters long (got ${secret.length})`);
  return { accessTokenSecret: secret, accessTokenKeys: keys };
}

const OPTION_KEYS: ReadonlyArray<keyof SessionsModuleOptions> = [
  'accessTokenSecret',
  'accessTokenKeys',
  'passwordHasher',
  'lifetimes',
  'passwordHashing',
  'cacheKeyPrefix',
  'cacheTimeoutMs',
  'cacheHeartbeatMs',
  'cacheMarkerNotifications',
  'refreshReuseGraceSeconds',
  'interruptedAfterSeconds',
  'auditSealIntervalSeconds',
  'loginLockout',
  'sessionPurge',
  'auditRetention',
  'sessionLimit',
  'singleInstance',
  'schema',
  'migrations',
  'observer',
];

// Compile-time: OPTION_KEYS lists every option, so an option added to the interface is also checked for.
type Assert<T extends true> = T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type OptionKeysAreComplete = Assert<Same<(typeof OPTION_KEYS)[number], keyof SessionsModuleOptions>>;

/** Collects the problems of one resolution, so the error names every bad field at once. */
class Checker {
  private readonly problems: string[] = [];

  problem(text: string): void {
    this.problems.push(text);
  }

  /** No problem so far under this field prefix. */
  isFine(prefix: string): boolean {
    return !this.problems.some((problem) => problem.startsWith(prefix));
  }

  value<T>(field: string, value: unknown, fallback: T, problemOf: (value: unknown) => string | undefined): T {
    if (value === undefined) return fallback;
    const problem = problemOf(value);
    if (problem === undefined) return value as T;
    this.problems.push(`${field} ${problem}`);
    return fallback;
  }

  integer(field: string, value: unknown, fallback: number, min: number, max: number): number {
    return this.value(field, value, fallback, (candidate) =>
      typeof candidate === 'number' && Number.isSafeInteger(candidate) && candidate >= min && candidate <= max
        ? undefined
        : `must be an integer between ${min} and ${max} (got ${describe(candidate)})`,
    );
  }

  boolean(field: string, value: unknown, fallback: boolean): boolean {
    return this.value(field, value, fallback, (candidate) =>
      typeof candidate === 'boolean' ? undefined : `must be true or false (got ${describe(candidate)})`,
    );
  }

  knownKeys(value: unknown, known: readonly string[], prefix: string, hint?: (key: string) => string | undefined): void {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      if (prefix !== '') this.problems.push(`${prefix.slice(0, -1)} must be an object (got ${describe(value)})`);
      return;
    }
    for (const key of Object.keys(value)) {
      if (known.includes(key)) continue;
      this.problems.push(hint?.(key) ?? `${prefix}${key} is not an option of SessionsModule (known: ${known.join(', ')})`);
    }
  }

  throwIfAny(): void {
    if (this.problems.length === 0) return;
    throw new SessionsConfigurationError(`Invalid SessionsModule options:\n${this.problems.map((problem) => `  - ${problem}`).join('\n')}`, this.problems);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (inner !== null && typeof inner === 'object') deepFreeze(inner as object);
  return Object.freeze(value);
}
