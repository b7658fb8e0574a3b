import type { AccessTokenKeysOptions } from './application/ports/access-token.port';
import type { LoginLockoutPolicy } from './application/ports/login-attempts.port';
import type { PasswordHasher } from './application/ports/password-hasher.port';
import { SessionLifetimes } from './domain/session-rules';

/** Argon2id parameters; the defaults are OWASP's first recommended set (19 MiB, t=2, p=1). */
export interface PasswordHashingOptions {
  readonly memoryCostKiB: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** Everything the library needs, validated by the app that imports it (the library reads no process.env). */
export interface SessionsModuleOptions {
  readonly lifetimes: SessionLifetimes;
  /** HMAC secret for access tokens (HS256), at least 32 characters. Not used when `accessTokenKeys` is set. */
  readonly accessTokenSecret: string;
  readonly passwordHashing: PasswordHashingOptions;
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
  /** Prefix of every key the session cache writes; lets several deployments or tests share a Redis. */
  readonly cacheKeyPrefix: string;
  /** How long one cache call may take before the auth check falls back to PostgreSQL. */
  readonly cacheTimeoutMs: number;
  /** How often the session cache is probed (and repaired, and its queued markers written). Default 1,000 ms. */
  readonly cacheHeartbeatMs?: number;
  /**
   * Write queued revocation markers as soon as PostgreSQL notifies them (LISTEN on a connection
   * of its own). Default true; the embedded database cannot (its sockets share one session).
   */
  readonly cacheMarkerNotifications?: boolean;
  /**
   * How long the client that rotated a refresh token may present it again (several tabs
   * refreshing at once) and get a new pair instead of tripping reuse detection. Default 5.
   */
  readonly refreshReuseGraceSeconds?: number;
  /**
   * Age after which an Attempted audit entry with no outcome is closed as Failed `interrupted`
   * (the process died mid-command), if its process instance has not beaten for as long either;
   * each instance beats every quarter of this. Default 60.
   */
  readonly interruptedAfterSeconds?: number;
  /**
   * The login lockout policy (see LoginLockoutPolicy): failures per (email, network) that lock
   * that network out, the email-wide progressive delay and its cap. Default 10 failures, 900 s, 300 s.
   */
  readonly loginLockout?: LoginLockoutPolicy;
  /**
   * BENCHMARKS ONLY. `session` (the default, and the only safe value) checks on every request
   * that the session is still active; `signature-only` skips that check, `no-cache` answers it
   * from PostgreSQL alone. They exist to measure what the session check costs.
   */
  readonly authCheck?: AuthCheckMode;
}

export type AuthCheckMode = 'session' | 'signature-only' | 'no-cache';

export const SESSIONS_OPTIONS = Symbol('SessionsModuleOptions');

export const DEFAULT_PASSWORD_HASHING: PasswordHashingOptions = { memoryCostKiB: 19456, timeCost: 2, parallelism: 1 };
