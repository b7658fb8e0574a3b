import { SessionsConfigurationError } from './domain/sessions-error';
import { NOOP_SESSIONS_OBSERVER, type SessionsObserver } from './application/observer/sessions-observer';
import { resolveSessionsOptions, SESSIONS_DEFAULTS, type SessionsModuleOptions } from './sessions.options';

const SECRET = 'x'.repeat(32);

function problemsOf(input: unknown): readonly string[] {
  try {
    resolveSessionsOptions(input as SessionsModuleOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(SessionsConfigurationError);
    return (error as SessionsConfigurationError).problems;
  }
  throw new Error('the options were accepted');
}

describe('resolveSessionsOptions', () => {
  it('fills every option from SESSIONS_DEFAULTS when only the secret is given', () => {
    expect(resolveSessionsOptions({ accessTokenSecret: SECRET })).toEqual({
      ...SESSIONS_DEFAULTS,
      accessTokenSecret: SECRET,
      observer: NOOP_SESSIONS_OBSERVER,
    });
  });

  it("keeps a host's observer, class instances included, and refuses one without the three methods", () => {
    class Counting implements SessionsObserver {
      authCheck(): void {}
      auditWrite(): void {}
      cacheTrust(): void {}
    }
    const observer = new Counting();
    expect(resolveSessionsOptions({ accessTokenSecret: SECRET, observer }).observer).toBe(observer);
    expect(problemsOf({ accessTokenSecret: SECRET, observer: { authCheck: () => undefined, auditWrite: () => undefined } })).toEqual([
      'observer must be a SessionsObserver (an object with authCheck, auditWrite and cacheTrust)',
    ]);
  });

  it('defaults each nested field on its own', () => {
    const resolved = resolveSessionsOptions({
      accessTokenSecret: SECRET,
      lifetimes: { accessTokenTtlSeconds: 120 },
      loginLockout: { threshold: 3 },
      passwordHashing: { timeCost: 3 },
    });
    expect(resolved.lifetimes).toEqual({ ...SESSIONS_DEFAULTS.lifetimes, accessTokenTtlSeconds: 120 });
    expect(resolved.loginLockout).toEqual({ ...SESSIONS_DEFAULTS.loginLockout, threshold: 3 });
    expect(resolved.passwordHashing).toEqual({ ...SESSIONS_DEFAULTS.passwordHashing, timeCost: 3 });
  });

  it('keeps what the host set', () => {
    const input = {
      accessTokenSecret: SECRET,
      cacheKeyPrefix: 'app:',
      cacheTimeoutMs: 50,
      cacheHeartbeatMs: 3_600_000,
      cacheMarkerNotifications: false,
      refreshReuseGraceSeconds: 0,
      interruptedAfterSeconds: 1,
      auditSealIntervalSeconds: 0,
      singleInstance: true,
      schema: 'auth_sessions',
      migrations: 'verify',
    } as const;
    expect(resolveSessionsOptions(input)).toMatchObject(input);
  });

  it('names every bad field at once, never quoting the secret', () => {
    const problems = problemsOf({
      accessTokenSecret: 'short secret',
      lifetimes: { accessTokenTtlSeconds: 1.5 },
      passwordHashing: { memoryCostKiB: 512, parallelism: 0 },
      cacheKeyPrefix: '{tag}:',
      cacheHeartbeatMs: 'often',
      cacheMarkerNotifications: 'yes',
      refreshReuseGraceSeconds: -1,
      auditSealIntervalSeconds: 86_401,
      loginLockout: { lockSeconds: 0, extra: 1 },
      singleInstance: 1,
      schema: 'pg_sessions',
      migrations: 'skip',
    });
    expect(problems).toEqual([
      'accessTokenSecret must be at least 32 characters long (got 12)',
      'lifetimes.accessTokenTtlSeconds must be an integer between 1 and 31536000 (got 1.5)',
      'passwordHashing.parallelism must be an integer between 1 and 255 (got 0)',
      'passwordHashing.memoryCostKiB must be an integer between 1024 and 4294967295 (got 512)',
      'cacheKeyPrefix must not contain "{" or "}" (Redis Cluster hash tags) (got "{tag}:")',
      'loginLockout.lockSeconds must be an integer between 1 and 31536000 (got 0)',
      expect.stringMatching(/^loginLockout\.extra is not an option of SessionsModule/),
      'cacheHeartbeatMs must be an integer between 10 and 86400000 (got "often")',
      'cacheMarkerNotifications must be true or false (got "yes")',
      'refreshReuseGraceSeconds must be an integer between 0 and 3600 (got -1)',
      'auditSealIntervalSeconds must be an integer between 0 and 86400 (got 86401)',
      'singleInstance must be true or false (got 1)',
      'schema must not start with pg_, which PostgreSQL reserves for its own schemas (got "pg_sessions")',
      "migrations must be 'run' or 'verify' (got \"skip\")",
    ]);
    expect(problems.join('\n')).not.toContain('short secret');
  });

  it('checks the audit retention field by field: at least a month kept, an absolute export directory or none', () => {
    expect(resolveSessionsOptions({ accessTokenSecret: SECRET }).auditRetention).toEqual({
      months: 13,
      exportDirectory: null,
      intervalSeconds: 3_600,
      partitionsAhead: 3,
    });
    expect(resolveSessionsOptions({ accessTokenSecret: SECRET, auditRetention: { months: 1, exportDirectory: '/srv/exports' } }).auditRetention).toEqual({
      months: 1,
      exportDirectory: '/srv/exports',
      intervalSeconds: 3_600,
      partitionsAhead: 3,
    });
    expect(
      problemsOf({
        accessTokenSecret: SECRET,
        auditRetention: { months: 0, exportDirectory: 'exports', intervalSeconds: -1, partitionsAhead: 13, keep: true } as never,
      }),
    ).toEqual([
      'auditRetention.months must be an integer between 1 and 1200 (got 0)',
      'auditRetention.exportDirectory must be an absolute path or null (got "exports")',
      'auditRetention.intervalSeconds must be an integer between 0 and 86400 (got -1)',
      'auditRetention.partitionsAhead must be an integer between 1 and 12 (got 13)',
      expect.stringMatching(/^auditRetention\.keep is not an option of SessionsModule/),
    ]);
  });

  it('checks the session cap: a positive integer or null, and one of the two policies', () => {
    expect(resolveSessionsOptions({ accessTokenSecret: SECRET }).sessionLimit).toEqual({ maxPerUser: null, policy: 'evict_oldest' });
    expect(resolveSessionsOptions({ accessTokenSecret: SECRET, sessionLimit: { maxPerUser: 3 } }).sessionLimit).toEqual({
      maxPerUser: 3,
      policy: 'evict_oldest',
    });
    expect(problemsOf({ accessTokenSecret: SECRET, sessionLimit: { maxPerUser: 0, policy: 'evict_newest', cap: 1 } as never })).toEqual([
      'sessionLimit.maxPerUser must be a positive integer or null (no cap) (got 0)',
      `sessionLimit.policy must be 'evict_oldest' or 'deny_new' (got "evict_newest")`,
      expect.stringMatching(/^sessionLimit\.cap is not an option of SessionsModule/),
    ]);
    expect(problemsOf({ accessTokenSecret: SECRET, sessionLimit: { maxPerUser: 1.5 } })).toEqual([
      'sessionLimit.maxPerUser must be a positive integer or null (no cap) (got 1.5)',
    ]);
  });

  it('needs no secret when asymmetric keys sign, and checks a host hasher has the three methods', () => {
    const accessTokenKeys = { algorithm: 'EdDSA', keyId: 'k1', privateKey: 'a PEM' } as const;
    expect(resolveSessionsOptions({ accessTokenKeys })).toMatchObject({ accessTokenSecret: undefined, accessTokenKeys });
    expect(problemsOf({ accessTokenKeys, passwordHasher: { hash: async () => 'h', verify: async () => true } })).toEqual([
      'passwordHasher must be a PasswordHasher (an object with hash, verify and needsRehash)',
    ]);
    expect(problemsOf({})).toEqual([expect.stringMatching(/^accessTokenSecret is required: .* \(or accessTokenKeys, to sign with EdDSA or ES256\)$/)]);
  });

  it('refuses a session that would not outlive its access token', () => {
    expect(problemsOf({ accessTokenSecret: SECRET, lifetimes: { sessionTtlSeconds: 900 } })).toEqual([
      'lifetimes.sessionTtlSeconds must be greater than lifetimes.accessTokenTtlSeconds (got 900 and 900): a refresh must outlive the token it renews',
    ]);
  });

  it('refuses a console session that is not shorter than a session, and shortens an unnamed one to fit', () => {
    expect(problemsOf({ accessTokenSecret: SECRET, lifetimes: { sessionTtlSeconds: 3_600, consoleSessionTtlSeconds: 3_600 } })).toEqual([
      'lifetimes.consoleSessionTtlSeconds must be less than lifetimes.sessionTtlSeconds (got 3600 and 3600): an admin console session is the shorter one',
    ]);
    expect(resolveSessionsOptions({ accessTokenSecret: SECRET }).lifetimes.consoleSessionTtlSeconds).toBe(28_800);
    expect(resolveSessionsOptions({ accessTokenSecret: SECRET, lifetimes: { sessionTtlSeconds: 3_600 } }).lifetimes.consoleSessionTtlSeconds).toBe(3_600);
  });

  it('refuses what is not an options object', () => {
    expect(problemsOf(undefined)).toEqual(['options must be an object']);
    expect(problemsOf({ accessTokenSecret: SECRET, lifetimes: 'long' })).toEqual(['lifetimes must be an object (got "long")']);
  });

  it('hands out defaults nobody can change', () => {
    expect(Object.isFrozen(SESSIONS_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(SESSIONS_DEFAULTS.lifetimes)).toBe(true);
    expect(Object.isFrozen(SESSIONS_DEFAULTS.loginLockout)).toBe(true);
  });
});
