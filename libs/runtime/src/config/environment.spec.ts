import { ConfigurationError, ENVIRONMENT_VARIABLES, Environment, loadEnvironment, PUBLISHED_DEVELOPMENT_ACCESS_TOKEN_SECRET } from './environment';

const SECRET = 'a-production-secret-of-at-least-32-chars';
/** NODE_ENV must say development explicitly for the development defaults. */
const DEV = { NODE_ENV: 'development' } as const;
/** A production configuration that loads. */
const PRODUCTION = {
  NODE_ENV: 'production',
  ACCESS_TOKEN_SECRET: SECRET,
  DATABASE_URL: 'postgres://db/sessions',
  REDIS_URL: 'redis://cache:6379',
} as const;
const IN_PRODUCTION = 'in production (NODE_ENV=production, or NODE_ENV unset)';
const DATABASE_REASON =
  'without DATABASE_URL the service would run an in-memory embedded database, which production never allows (users and the audit trail would vanish on restart)';
const REDIS_REASON =
  'without REDIS_URL each process caches sessions on its own, so another instance accepts a logged-out session for up to a minute; if exactly one instance ever runs, set IN_PROCESS_CACHE_SINGLE_INSTANCE=true instead';

/** The problems loadEnvironment reports for `env`; fails the test if it accepts it. */
function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadEnvironment(env);
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('loadEnvironment', () => {
  it('applies every default to an environment that only says NODE_ENV=development', () => {
    const expected: Environment = {
      nodeEnv: 'development',
      http: {
        port: 3000,
        adminPort: 3001,
        host: '0.0.0.0',
        trustProxy: false,
        bodyLimit: '16kb',
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        corsOrigins: { web: [], admin: [] },
        hstsMaxAgeSeconds: 0,
        apiDocs: true,
        consoleAssetsDir: undefined,
      },
      database: { url: undefined, poolSize: 10, statementTimeoutMs: 5000, embeddedDataDir: undefined },
      cache: { redisUrl: undefined, redisClusterNodes: undefined, inProcessSingleInstance: false, store: 'keyv-redis', keyPrefix: 'sessions:', timeoutMs: 250 },
      accessToken: { secret: expect.stringMatching(/^[\w-]{43}$/), ttlSeconds: 900, keys: undefined },
      generatedAccessTokenSecret: true,
      sessionTtlSeconds: 2_592_000,
      adminConsole: { sessionTtlSeconds: 28_800, reauthWindowSeconds: 300 },
      passwordHashing: { memoryCostKiB: 19_456, timeCost: 2, parallelism: 1 },
      admin: undefined,
      refreshReuseGraceSeconds: 5,
      serviceClients: [],
      interruptedAfterSeconds: 60,
      sessionLimit: { maxPerUser: null, policy: 'evict_oldest' },
      sessionPurge: { intervalSeconds: 3_600, marginSeconds: 604_800, batchSize: 500 },
      auditSealIntervalSeconds: 300,
      auditRetention: { months: 13, exportDirectory: null, intervalSeconds: 3_600 },
      authCheck: 'session',
      rateLimit: {
        windowSeconds: 60,
        perIp: 30,
        perAccount: 10,
        lockoutThreshold: 10,
        lockoutSeconds: 900,
        loginMaxDelaySeconds: 300,
        perUser: 60,
        perIpAuthenticated: 600,
      },
      logLevel: 'info',
      migrationsAtStartup: 'run',
      // No load balancer to wait for on a laptop: Ctrl-C closes at once.
      shutdown: { drainSeconds: 0, timeoutSeconds: 25 },
      // Private by default: loopback, and a port of its own.
      metrics: { enabled: true, host: '127.0.0.1', port: 9464 },
    };
    expect(loadEnvironment(DEV)).toEqual(expected);
  });

  it('reads and converts every variable', () => {
    const environment = loadEnvironment({
      NODE_ENV: 'production',
      PORT: '8080',
      ADMIN_PORT: '8081',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgresql://app:pw@db:5432/sessions',
      DATABASE_POOL_SIZE: '20',
      DATABASE_STATEMENT_TIMEOUT_MS: '0',
      EMBEDDED_DATA_DIR: '/var/lib/sessions',
      REDIS_URL: 'rediss://:pw@cache:6380/2',
      IN_PROCESS_CACHE_SINGLE_INSTANCE: 'FALSE',
      CACHE_STORE: 'redis-yet',
      CACHE_KEY_PREFIX: 'prod:sessions:',
      CACHE_TIMEOUT_MS: '100',
      ACCESS_TOKEN_SECRET: SECRET,
      ACCESS_TOKEN_TTL_SECONDS: '600',
      SESSION_TTL_SECONDS: '86400',
      ADMIN_SESSION_TTL_SECONDS: '14400',
      ADMIN_REAUTH_WINDOW_SECONDS: '120',
      ARGON2_MEMORY_KIB: '65536',
      ARGON2_TIME_COST: '3',
      ARGON2_PARALLELISM: '4',
      ADMIN_EMAIL: 'admin@example.com',
      ADMIN_PASSWORD: 'correct horse battery',
      TRUST_PROXY: '10.0.0.0/8, loopback,::1',
      BODY_LIMIT: '1mb',
      HTTP_HEADERS_TIMEOUT_MS: '5000',
      HTTP_REQUEST_TIMEOUT_MS: '20000',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      ADMIN_CORS_ORIGINS: 'https://admin.example.com',
      HSTS_MAX_AGE_SECONDS: '31536000',
      API_DOCS: 'on',
      ADMIN_CONSOLE_ASSETS_DIR: '/srv/console',
      REFRESH_REUSE_GRACE_SECONDS: '3',
      INTERRUPTED_AFTER_SECONDS: '120',
      SESSION_MAX_PER_USER: '5',
      SESSION_LIMIT_POLICY: 'deny_new',
      SESSION_PURGE_INTERVAL_SECONDS: '0',
      SESSION_PURGE_MARGIN_SECONDS: '86400',
      SESSION_PURGE_BATCH_SIZE: '200',
      AUDIT_SEAL_INTERVAL_SECONDS: '0',
      AUDIT_RETENTION_MONTHS: '24',
      AUDIT_EXPORT_DIR: '/var/lib/sessions/audit-exports',
      AUDIT_MAINTENANCE_INTERVAL_SECONDS: '600',
      RATE_LIMIT_WINDOW_SECONDS: '300',
      RATE_LIMIT_PER_IP: '100',
      RATE_LIMIT_PER_ACCOUNT: '5',
      LOGIN_LOCKOUT_THRESHOLD: '3',
      LOGIN_LOCKOUT_SECONDS: '3600',
      LOG_LEVEL: 'warn',
      MIGRATIONS_AT_STARTUP: 'verify',
      SHUTDOWN_DRAIN_SECONDS: '10',
      SHUTDOWN_TIMEOUT_SECONDS: '50',
      METRICS_ENABLED: 'true',
      METRICS_HOST: '10.0.0.5',
      METRICS_PORT: '9100',
      UNRELATED: 'ignored',
    });
    expect(environment).toEqual({
      metrics: { enabled: true, host: '10.0.0.5', port: 9100 },
      nodeEnv: 'production',
      http: {
        port: 8080,
        adminPort: 8081,
        host: '127.0.0.1',
        trustProxy: '10.0.0.0/8,loopback,::1',
        bodyLimit: '1mb',
        headersTimeoutMs: 5000,
        requestTimeoutMs: 20_000,
        corsOrigins: { web: ['https://app.example.com', 'http://localhost:5173'], admin: ['https://admin.example.com'] },
        hstsMaxAgeSeconds: 31_536_000,
        apiDocs: true,
        consoleAssetsDir: '/srv/console',
      },
      database: { url: 'postgresql://app:pw@db:5432/sessions', poolSize: 20, statementTimeoutMs: 0, embeddedDataDir: '/var/lib/sessions' },
      cache: { redisUrl: 'rediss://:pw@cache:6380/2', inProcessSingleInstance: false, store: 'redis-yet', keyPrefix: 'prod:sessions:', timeoutMs: 100 },
      accessToken: { secret: SECRET, ttlSeconds: 600, keys: undefined },
      generatedAccessTokenSecret: false,
      sessionTtlSeconds: 86_400,
      adminConsole: { sessionTtlSeconds: 14_400, reauthWindowSeconds: 120 },
      passwordHashing: { memoryCostKiB: 65_536, timeCost: 3, parallelism: 4 },
      admin: { email: 'admin@example.com', password: 'correct horse battery' },
      refreshReuseGraceSeconds: 3,
      serviceClients: [],
      interruptedAfterSeconds: 120,
      sessionLimit: { maxPerUser: 5, policy: 'deny_new' },
      sessionPurge: { intervalSeconds: 0, marginSeconds: 86_400, batchSize: 200 },
      auditSealIntervalSeconds: 0,
      auditRetention: { months: 24, exportDirectory: '/var/lib/sessions/audit-exports', intervalSeconds: 600 },
      authCheck: 'session',
      rateLimit: {
        windowSeconds: 300,
        perIp: 100,
        perAccount: 5,
        lockoutThreshold: 3,
        lockoutSeconds: 3600,
        loginMaxDelaySeconds: 300,
        perUser: 60,
        perIpAuthenticated: 600,
      },
      logLevel: 'warn',
      migrationsAtStartup: 'verify',
      shutdown: { drainSeconds: 10, timeoutSeconds: 50 },
    });
  });

  it('treats empty values as unset', () => {
    const environment = loadEnvironment({ ...DEV, PORT: '', DATABASE_URL: '  ', ADMIN_EMAIL: '', ADMIN_PASSWORD: '' });
    expect(environment.http.port).toBe(3000);
    expect(environment.database.url).toBeUndefined();
    expect(environment.admin).toBeUndefined();
  });

  it.each([
    ['FALSE', false],
    ['0', 0],
    ['2', 2],
    ['192.168.1.10', '192.168.1.10'],
    ['uniquelocal,fd00::/8', 'uniquelocal,fd00::/8'],
  ])('passes TRUST_PROXY=%s through as %p', (value, expected) => {
    expect(loadEnvironment({ ...DEV, TRUST_PROXY: value }).http.trustProxy).toEqual(expected);
  });

  // issue 8 #9: with `true`, clients chose the IP recorded in the audit trail and counted by the limits.
  it.each(['true', 'TRUE', ' True '])('refuses TRUST_PROXY=%p and says what to set instead', (value) => {
    expect(problemsOf({ ...PRODUCTION, TRUST_PROXY: value })).toEqual([
      'TRUST_PROXY=true is not allowed: it trusts every X-Forwarded-For entry, so clients would choose the IP address the audit trail records and the per-IP limits count; set the number of proxies in front of the service, or their addresses or CIDR subnets',
    ]);
    expect(problemsOf({ ...DEV, TRUST_PROXY: value })).toHaveLength(1);
  });

  it('names every invalid variable and why, in one error', () => {
    const problems = problemsOf({
      NODE_ENV: 'prod',
      PORT: 'abc',
      ADMIN_PORT: '70000',
      DATABASE_POOL_SIZE: '0',
      CACHE_STORE: 'memcached',
      CACHE_KEY_PREFIX: 'sessions:{x}:',
      CACHE_TIMEOUT_MS: '5',
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_TIME_COST: '1.5',
      ARGON2_PARALLELISM: '17',
      TRUST_PROXY: '10.0.0.0/8,not-an-ip',
      BODY_LIMIT: 'lots',
      HTTP_HEADERS_TIMEOUT_MS: '999',
      HTTP_REQUEST_TIMEOUT_MS: 'slow',
      RATE_LIMIT_WINDOW_SECONDS: '0',
      RATE_LIMIT_PER_IP: 'many',
      RATE_LIMIT_PER_ACCOUNT: '-1',
      LOGIN_LOCKOUT_THRESHOLD: '1001',
      LOGIN_LOCKOUT_SECONDS: '86401',
    });
    expect(problems).toEqual([
      'NODE_ENV must be one of development, test, production (got "prod")',
      'PORT must be an integer between 1 and 65535 (got "abc")',
      'ADMIN_PORT must be an integer between 1 and 65535 (got "70000")',
      'DATABASE_POOL_SIZE must be an integer between 1 and 100 (got "0")',
      'CACHE_STORE must be one of keyv-redis, redis-yet (got "memcached")',
      'CACHE_KEY_PREFIX must not contain { or } (got "sessions:{x}:")',
      'CACHE_TIMEOUT_MS must be an integer between 10 and 10000 (got "5")',
      `ACCESS_TOKEN_SECRET is required ${IN_PRODUCTION}`,
      'ARGON2_MEMORY_KIB must be an integer between 8192 and 4294967295 (got "1024")',
      'ARGON2_TIME_COST must be an integer between 1 and 10 (got "1.5")',
      'ARGON2_PARALLELISM must be an integer between 1 and 16 (got "17")',
      'TRUST_PROXY must be false, a number of hops, or a comma-separated list of IP addresses or CIDR subnets (got "not-an-ip")',
      'BODY_LIMIT must be a size such as 16kb, 1mb or a number of bytes (got "lots")',
      'HTTP_HEADERS_TIMEOUT_MS must be an integer between 1000 and 300000 (got "999")',
      'HTTP_REQUEST_TIMEOUT_MS must be an integer between 1000 and 3600000 (got "slow")',
      'RATE_LIMIT_WINDOW_SECONDS must be an integer between 1 and 86400 (got "0")',
      'RATE_LIMIT_PER_IP must be an integer between 1 and 1000000 (got "many")',
      'RATE_LIMIT_PER_ACCOUNT must be an integer between 1 and 1000000 (got "-1")',
      'LOGIN_LOCKOUT_THRESHOLD must be an integer between 1 and 1000 (got "1001")',
      'LOGIN_LOCKOUT_SECONDS must be an integer between 1 and 86400 (got "86401")',
      // An unknown NODE_ENV is not development: production's rules apply.
      `DATABASE_URL and REDIS_URL are required ${IN_PRODUCTION}: ${DATABASE_REASON}; ${REDIS_REASON}`,
    ]);
  });

  it('puts every problem in the message, one per line', () => {
    expect(() => loadEnvironment({ ...DEV, PORT: 'abc', ADMIN_PORT: '-1' })).toThrow(
      new ConfigurationError(['PORT must be an integer between 1 and 65535 (got "abc")', 'ADMIN_PORT must be an integer between 1 and 65535 (got "-1")']),
    );
    expect(() => loadEnvironment({ ...DEV, PORT: 'abc' })).toThrow(
      'Invalid environment configuration:\n  - PORT must be an integer between 1 and 65535 (got "abc")',
    );
  });

  describe('URLs', () => {
    it.each(['postgres://db/sessions', 'postgresql://u:p@db:5432/sessions?sslmode=require'])('accepts DATABASE_URL=%s', (url) => {
      expect(loadEnvironment({ ...DEV, DATABASE_URL: url }).database.url).toBe(url);
    });

    it('rejects other schemes without echoing the password', () => {
      const problems = problemsOf({ ...DEV, DATABASE_URL: 'mysql://root:hunter2@db/x', REDIS_URL: 'not a url with hunter2' });
      expect(problems).toEqual([
        'DATABASE_URL must be a postgres:// or postgresql:// URL (got a "mysql://" URL; the value is not shown as it may hold a password)',
        'REDIS_URL must be a redis:// or rediss:// URL (got a value that is not a URL; the value is not shown as it may hold a password)',
      ]);
      expect(problems.join('\n')).not.toContain('hunter2');
    });

    it('accepts redis:// and rediss://', () => {
      expect(loadEnvironment({ ...DEV, REDIS_URL: 'redis://127.0.0.1:6379' }).cache.redisUrl).toBe('redis://127.0.0.1:6379');
      expect(loadEnvironment({ ...DEV, REDIS_URL: 'rediss://cache:6380' }).cache.redisUrl).toBe('rediss://cache:6380');
    });
  });

  // issue 12 #1: a Redis Cluster as the cache, rate-limit and lockout store.
  describe('REDIS_CLUSTER_NODES', () => {
    it('reads comma-separated host:port seeds, and satisfies production instead of REDIS_URL', () => {
      const environment = loadEnvironment({ ...PRODUCTION, REDIS_URL: undefined, REDIS_CLUSTER_NODES: 'cache-a:7000, 10.0.0.2:7001,[::1]:7002' });
      expect(environment.cache).toMatchObject({ redisUrl: undefined, redisClusterNodes: ['cache-a:7000', '10.0.0.2:7001', '[::1]:7002'], store: 'keyv-redis' });
    });

    it('refuses it together with REDIS_URL', () => {
      expect(problemsOf({ ...PRODUCTION, REDIS_CLUSTER_NODES: 'cache-a:7000' })).toEqual([
        'REDIS_CLUSTER_NODES and REDIS_URL are mutually exclusive: set one (a cluster is reached through its seed nodes)',
      ]);
    });

    it('refuses it with CACHE_STORE=redis-yet', () => {
      expect(problemsOf({ ...PRODUCTION, REDIS_URL: undefined, REDIS_CLUSTER_NODES: 'cache-a:7000', CACHE_STORE: 'redis-yet' })).toEqual([
        `REDIS_CLUSTER_NODES needs CACHE_STORE=keyv-redis (the Redis Cluster client is @keyv/redis's node-redis 5) (got "redis-yet")`,
      ]);
    });

    it('refuses a seed that is not host:port', () => {
      for (const [value, bad] of [
        ['cache-a', 'cache-a'],
        ['cache-a:7000,redis://cache-b:7001', 'redis://cache-b:7001'],
        ['cache-a:70000', 'cache-a:70000'],
        ['cache-a:7000,', ''],
      ]) {
        expect(problemsOf({ ...PRODUCTION, REDIS_URL: undefined, REDIS_CLUSTER_NODES: value })).toEqual([
          `REDIS_CLUSTER_NODES must be comma-separated host:port seeds (got "${bad}")`,
        ]);
      }
    });
  });

  describe('ACCESS_TOKEN_SECRET', () => {
    it('is required in production', () => {
      expect(problemsOf({ ...PRODUCTION, ACCESS_TOKEN_SECRET: undefined })).toEqual([`ACCESS_TOKEN_SECRET is required ${IN_PRODUCTION}`]);
    });

    // issue 8 #5: a forgotten NODE_ENV signed with a secret published in the source.
    it('is required when NODE_ENV is unset, empty or unknown: only an explicit development or test relaxes it', () => {
      const { NODE_ENV: _unset, ...unset } = PRODUCTION;
      for (const env of [
        { ...unset, ACCESS_TOKEN_SECRET: undefined },
        { ...unset, NODE_ENV: ' ', ACCESS_TOKEN_SECRET: undefined },
      ]) {
        expect(problemsOf(env)).toEqual([`ACCESS_TOKEN_SECRET is required ${IN_PRODUCTION}`]);
      }
      expect(loadEnvironment(unset).nodeEnv).toBe('production');
      expect(problemsOf({ ...unset, NODE_ENV: 'staging', ACCESS_TOKEN_SECRET: undefined })).toContain(`ACCESS_TOKEN_SECRET is required ${IN_PRODUCTION}`);
    });

    it.each(['development', 'test'])('is a random secret of this process in %s, never a published one, and says so', (nodeEnv) => {
      const first = loadEnvironment({ NODE_ENV: nodeEnv });
      const second = loadEnvironment({ NODE_ENV: nodeEnv });
      expect(first.generatedAccessTokenSecret).toBe(true);
      expect(first.accessToken.secret).toMatch(/^[\w-]{43}$/);
      expect(first.accessToken.secret).not.toBe(second.accessToken.secret);
      expect(first.accessToken.secret).not.toBe(PUBLISHED_DEVELOPMENT_ACCESS_TOKEN_SECRET);
    });

    it('must be at least 32 characters, and its value is never shown', () => {
      const problems = problemsOf({ NODE_ENV: 'test', ACCESS_TOKEN_SECRET: 'short-secret' });
      expect(problems).toEqual(['ACCESS_TOKEN_SECRET must be at least 32 characters long (got 12)']);
    });

    it('refuses the development secret published in earlier versions, in every NODE_ENV', () => {
      for (const NODE_ENV of ['production', 'development']) {
        expect(problemsOf({ ...PRODUCTION, NODE_ENV, ACCESS_TOKEN_SECRET: PUBLISHED_DEVELOPMENT_ACCESS_TOKEN_SECRET })).toEqual([
          'ACCESS_TOKEN_SECRET must not be the development secret published in earlier versions',
        ]);
      }
    });

    it('is used as given when set', () => {
      const environment = loadEnvironment(PRODUCTION);
      expect(environment.accessToken.secret).toBe(SECRET);
      expect(environment.generatedAccessTokenSecret).toBe(false);
    });
  });

  // issue 8 #4: production started on an in-memory PGlite and a per-process cache.
  describe('DATABASE_URL and REDIS_URL in production', () => {
    it('names both in one problem when production has neither, and NODE_ENV unset counts as production', () => {
      const expected = [`DATABASE_URL and REDIS_URL are required ${IN_PRODUCTION}: ${DATABASE_REASON}; ${REDIS_REASON}`];
      expect(problemsOf({ ...PRODUCTION, DATABASE_URL: undefined, REDIS_URL: undefined })).toEqual(expected);
      expect(problemsOf({ ACCESS_TOKEN_SECRET: SECRET })).toEqual(expected);
    });

    it('names the one that is missing', () => {
      expect(problemsOf({ ...PRODUCTION, DATABASE_URL: '' })).toEqual([`DATABASE_URL is required ${IN_PRODUCTION}: ${DATABASE_REASON}`]);
      expect(problemsOf({ ...PRODUCTION, REDIS_URL: '' })).toEqual([`REDIS_URL is required ${IN_PRODUCTION}: ${REDIS_REASON}`]);
    });

    it('allows the in-process cache in production only with IN_PROCESS_CACHE_SINGLE_INSTANCE=true', () => {
      const environment = loadEnvironment({ ...PRODUCTION, REDIS_URL: undefined, IN_PROCESS_CACHE_SINGLE_INSTANCE: 'true' });
      expect(environment.cache).toMatchObject({ redisUrl: undefined, inProcessSingleInstance: true });
      expect(problemsOf({ ...PRODUCTION, REDIS_URL: undefined, IN_PROCESS_CACHE_SINGLE_INSTANCE: 'false' })).toEqual([
        `REDIS_URL is required ${IN_PRODUCTION}: ${REDIS_REASON}`,
      ]);
      expect(problemsOf({ ...PRODUCTION, IN_PROCESS_CACHE_SINGLE_INSTANCE: 'yes' })).toEqual([
        'IN_PROCESS_CACHE_SINGLE_INSTANCE must be true or false (got "yes")',
      ]);
    });

    it('never allows the embedded database in production, not even with the single-instance opt-in or a data directory', () => {
      expect(problemsOf({ ...PRODUCTION, DATABASE_URL: undefined, EMBEDDED_DATA_DIR: '/var/lib/sessions', IN_PROCESS_CACHE_SINGLE_INSTANCE: 'true' })).toEqual([
        `DATABASE_URL is required ${IN_PRODUCTION}: ${DATABASE_REASON}`,
      ]);
    });

    it.each(['development', 'test'])('keeps embedded mode (neither set) in %s', (nodeEnv) => {
      const environment = loadEnvironment({ NODE_ENV: nodeEnv });
      expect(environment.database.url).toBeUndefined();
      expect(environment.cache.redisUrl).toBeUndefined();
    });
  });

  // issue 8 #21: Node held a half-sent body for five minutes.
  describe('HTTP_HEADERS_TIMEOUT_MS and HTTP_REQUEST_TIMEOUT_MS', () => {
    it('refuses a request timeout shorter than the headers timeout', () => {
      expect(problemsOf({ ...DEV, HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' })).toEqual([
        'HTTP_REQUEST_TIMEOUT_MS must be at least HTTP_HEADERS_TIMEOUT_MS (got 10000, HTTP_HEADERS_TIMEOUT_MS is 20000)',
      ]);
      expect(loadEnvironment({ ...DEV, HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '5000' }).http).toMatchObject({
        headersTimeoutMs: 5000,
        requestTimeoutMs: 5000,
      });
    });
  });

  describe('lifetimes', () => {
    it('requires the session to outlive the access token', () => {
      expect(problemsOf({ ...DEV, ACCESS_TOKEN_TTL_SECONDS: '7200', SESSION_TTL_SECONDS: '3600', ADMIN_SESSION_TTL_SECONDS: '1800' })).toEqual([
        'SESSION_TTL_SECONDS must be greater than ACCESS_TOKEN_TTL_SECONDS (got 3600, ACCESS_TOKEN_TTL_SECONDS is 7200)',
      ]);
    });

    it('requires an admin console session to be shorter than a session', () => {
      expect(problemsOf({ ...DEV, SESSION_TTL_SECONDS: '28800' })).toEqual([
        'ADMIN_SESSION_TTL_SECONDS must be less than SESSION_TTL_SECONDS (got 28800, SESSION_TTL_SECONDS is 28800)',
      ]);
      expect(problemsOf({ ...DEV, ADMIN_REAUTH_WINDOW_SECONDS: '0' })).toEqual([
        'ADMIN_REAUTH_WINDOW_SECONDS must be an integer between 10 and 3600 (got "0")',
      ]);
    });

    it('reports only the range when the session lifetime is out of range', () => {
      expect(problemsOf({ ...DEV, SESSION_TTL_SECONDS: '60' })).toEqual(['SESSION_TTL_SECONDS must be an integer between 3600 and 31536000 (got "60")']);
    });

    it('does not compare against an access token lifetime that is itself invalid', () => {
      expect(problemsOf({ ...DEV, ACCESS_TOKEN_TTL_SECONDS: 'soon' })).toEqual([
        'ACCESS_TOKEN_TTL_SECONDS must be an integer between 60 and 86400 (got "soon")',
      ]);
    });
  });

  describe('ADMIN_EMAIL and ADMIN_PASSWORD', () => {
    it('requires both or neither', () => {
      expect(problemsOf({ ...DEV, ADMIN_EMAIL: 'admin@example.com' })).toEqual(['ADMIN_PASSWORD must be set when ADMIN_EMAIL is (set both or neither)']);
      expect(problemsOf({ ...DEV, ADMIN_PASSWORD: 'long enough' })).toEqual(['ADMIN_EMAIL must be set when ADMIN_PASSWORD is (set both or neither)']);
    });

    it('checks the email and the password length without showing the password', () => {
      const problems = problemsOf({ ...DEV, ADMIN_EMAIL: 'admin', ADMIN_PASSWORD: 'pw123' });
      expect(problems).toEqual(['ADMIN_EMAIL must be an email address (got "admin")', 'ADMIN_PASSWORD must be 8 to 128 characters long (got 5)']);
      expect(problemsOf({ ...DEV, ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'x'.repeat(129) })).toEqual([
        'ADMIN_PASSWORD must be 8 to 128 characters long (got 129)',
      ]);
    });
  });

  it('rejects a HOST with spaces, and a TRUST_PROXY subnet with too many bits', () => {
    expect(problemsOf({ ...DEV, HOST: 'my host', TRUST_PROXY: '10.0.0.0/33' })).toEqual([
      'HOST must be a host name or an IP address (got "my host")',
      'TRUST_PROXY must be false, a number of hops, or a comma-separated list of IP addresses or CIDR subnets (got "10.0.0.0/33")',
    ]);
  });

  it('shortens a very long quoted value', () => {
    const [problem] = problemsOf({ ...DEV, PORT: '9'.repeat(100) });
    expect(problem).toBe(`PORT must be an integer between 1 and 65535 (got "${'9'.repeat(57)}...")`);
  });
});

describe('ENVIRONMENT_VARIABLES', () => {
  it('lists each variable once, with defaults that load cleanly', () => {
    const names = ENVIRONMENT_VARIABLES.map((variable) => variable.name);
    expect(new Set(names).size).toBe(names.length);
    const defaults = Object.fromEntries(ENVIRONMENT_VARIABLES.flatMap((variable) => ('default' in variable ? [[variable.name, variable.default]] : [])));
    expect(defaults).toMatchObject({ PORT: '3000', CACHE_KEY_PREFIX: 'sessions:', TRUST_PROXY: 'false', BODY_LIMIT: '16kb' });
    expect(defaults.NODE_ENV).toBe('production');
    expect(() => loadEnvironment({ ...defaults, ...PRODUCTION })).not.toThrow();
    expect(() => loadEnvironment({ ...defaults, ...DEV })).not.toThrow();
  });
});

describe('CORS_ORIGINS and ADMIN_CORS_ORIGINS', () => {
  it('are off (no origin) when unset or empty', () => {
    expect(loadEnvironment(DEV).http.corsOrigins).toEqual({ web: [], admin: [] });
    expect(loadEnvironment({ ...DEV, CORS_ORIGINS: '  ', ADMIN_CORS_ORIGINS: '' }).http.corsOrigins).toEqual({ web: [], admin: [] });
  });

  it('take exact origins, IPv6 and non-default ports included, each app its own list', () => {
    const { corsOrigins } = loadEnvironment({
      ...DEV,
      CORS_ORIGINS: 'https://app.example.com,http://[::1]:8080',
      ADMIN_CORS_ORIGINS: 'http://localhost:5173',
    }).http;
    expect(corsOrigins).toEqual({ web: ['https://app.example.com', 'http://[::1]:8080'], admin: ['http://localhost:5173'] });
  });

  it.each([
    ['*', 'a wildcard: list each origin that may call the API'],
    ['https://app.example.com,*', 'a wildcard: list each origin that may call the API'],
    ['https://app.example.com/', '"https://app.example.com/", which a browser sends as "https://app.example.com"'],
    ['https://app.example.com/login', '"https://app.example.com/login", which has a path (an origin is scheme://host[:port] only)'],
    ['https://app.example.com?x=1', '"https://app.example.com?x=1", which has a path (an origin is scheme://host[:port] only)'],
    ['https://user:pw@app.example.com', '"https://user:pw@app.example.com", which has credentials (an origin is scheme://host[:port] only)'],
    ['https://App.Example.com', '"https://App.Example.com", which a browser sends as "https://app.example.com"'],
    ['https://app.example.com:443', '"https://app.example.com:443", which a browser sends as "https://app.example.com"'],
    ['app.example.com', '"app.example.com", which is not scheme://host[:port]'],
    ['ftp://app.example.com', '"ftp://app.example.com", whose scheme is not http or https'],
    ['null', '"null" (sandboxed and file pages, which any page can make)'],
    ['https://a.example.com,,https://b.example.com', 'an empty entry'],
  ])('refuse %p at start-up, naming the variable and the entry', (value, why) => {
    const expected = (name: string) =>
      `${name} must be a comma-separated list of exact origins such as https://app.example.com or http://localhost:5173; refused: ${why}`;
    expect(problemsOf({ ...DEV, CORS_ORIGINS: value })).toEqual([expected('CORS_ORIGINS')]);
    expect(problemsOf({ ...PRODUCTION, ADMIN_CORS_ORIGINS: value })).toEqual([expected('ADMIN_CORS_ORIGINS')]);
  });
});

describe('HSTS_MAX_AGE_SECONDS', () => {
  it('is off (0) by default and refuses what is not a number of seconds up to two years', () => {
    expect(loadEnvironment(PRODUCTION).http.hstsMaxAgeSeconds).toBe(0);
    expect(problemsOf({ ...PRODUCTION, HSTS_MAX_AGE_SECONDS: '1y' })).toEqual(['HSTS_MAX_AGE_SECONDS must be an integer between 0 and 63072000 (got "1y")']);
    expect(problemsOf({ ...PRODUCTION, HSTS_MAX_AGE_SECONDS: '63072001' })).toEqual([
      'HSTS_MAX_AGE_SECONDS must be an integer between 0 and 63072000 (got "63072001")',
    ]);
  });
});

describe('BENCHMARK_AUTH_CHECK', () => {
  it('can weaken the auth check for benchmarks only when NODE_ENV is explicitly development or test', () => {
    expect(loadEnvironment({ ...DEV, BENCHMARK_AUTH_CHECK: 'signature-only' }).authCheck).toBe('signature-only');
    expect(loadEnvironment({ NODE_ENV: 'test', BENCHMARK_AUTH_CHECK: 'no-cache' }).authCheck).toBe('no-cache');
    const refused = `BENCHMARK_AUTH_CHECK must be "session" ${IN_PRODUCTION} (got "signature-only")`;
    expect(problemsOf({ ...PRODUCTION, BENCHMARK_AUTH_CHECK: 'signature-only' })).toEqual([refused]);
    const { NODE_ENV: _unset, ...unset } = PRODUCTION;
    expect(problemsOf({ ...unset, BENCHMARK_AUTH_CHECK: 'signature-only' })).toEqual([refused]);
    expect(loadEnvironment(PRODUCTION).authCheck).toBe('session');
  });

  it('rejects an unknown mode', () => {
    expect(() => loadEnvironment({ ...DEV, BENCHMARK_AUTH_CHECK: 'none' })).toThrow(/BENCHMARK_AUTH_CHECK must be one of/);
  });
});

describe('AUDIT_RETENTION_MONTHS and AUDIT_EXPORT_DIR', () => {
  it('keeps at least a year in production, as PCI DSS 10.5.1 asks; less only in development and test', () => {
    expect(loadEnvironment({ NODE_ENV: 'test', AUDIT_RETENTION_MONTHS: '1' }).auditRetention.months).toBe(1);
    expect(loadEnvironment({ ...PRODUCTION, AUDIT_RETENTION_MONTHS: '12' }).auditRetention.months).toBe(12);
    expect(problemsOf({ ...PRODUCTION, AUDIT_RETENTION_MONTHS: '11' })).toEqual([`AUDIT_RETENTION_MONTHS must be at least 12 ${IN_PRODUCTION} (got "11")`]);
    expect(problemsOf({ ...DEV, AUDIT_RETENTION_MONTHS: '0' })).toEqual([
      expect.stringMatching(/^AUDIT_RETENTION_MONTHS must be an integer between 1 and 1200/),
    ]);
    expect(problemsOf({ ...DEV, AUDIT_RETENTION_MONTHS: 'a year' })).toHaveLength(1);
  });

  it('takes an absolute export directory only', () => {
    expect(loadEnvironment({ ...DEV, AUDIT_EXPORT_DIR: '/srv/exports' }).auditRetention.exportDirectory).toBe('/srv/exports');
    expect(problemsOf({ ...DEV, AUDIT_EXPORT_DIR: 'exports' })).toEqual(['AUDIT_EXPORT_DIR must be an absolute path (got "exports")']);
  });
});

describe('SESSION_MAX_PER_USER and SESSION_LIMIT_POLICY', () => {
  it('caps nothing unless told (an empty value is unset), and evicts the oldest by default', () => {
    expect(loadEnvironment(DEV).sessionLimit).toEqual({ maxPerUser: null, policy: 'evict_oldest' });
    expect(loadEnvironment({ ...DEV, SESSION_MAX_PER_USER: ' ' }).sessionLimit).toEqual({ maxPerUser: null, policy: 'evict_oldest' });
    expect(loadEnvironment({ ...DEV, SESSION_MAX_PER_USER: '3' }).sessionLimit).toEqual({ maxPerUser: 3, policy: 'evict_oldest' });
    expect(loadEnvironment({ ...DEV, SESSION_MAX_PER_USER: '1', SESSION_LIMIT_POLICY: 'DENY_NEW' }).sessionLimit).toEqual({
      maxPerUser: 1,
      policy: 'deny_new',
    });
  });

  it.each(['0', '-2', '2.5', 'three', '1e3', '07x'])('refuses SESSION_MAX_PER_USER=%j with a clear message', (value) => {
    expect(problemsOf({ ...DEV, SESSION_MAX_PER_USER: value })).toEqual([
      `SESSION_MAX_PER_USER must be an integer of at least 1 (got ${JSON.stringify(value)})`,
    ]);
  });

  it('refuses a policy it does not know', () => {
    expect(problemsOf({ ...DEV, SESSION_LIMIT_POLICY: 'evict_newest' })).toEqual([
      'SESSION_LIMIT_POLICY must be one of evict_oldest, deny_new (got "evict_newest")',
    ]);
  });
});

describe('OpenTelemetry variables', () => {
  it('accepts a tracing configuration and leaves every OTEL variable optional', () => {
    expect(() => loadEnvironment(PRODUCTION)).not.toThrow();
    expect(() =>
      loadEnvironment({
        ...PRODUCTION,
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
        OTEL_SERVICE_NAME: 'sessions-eu',
      }),
    ).not.toThrow();
  });

  it('stops start-up on a bad value, naming the variable, without quoting URLs or headers', () => {
    expect(
      problemsOf({
        ...PRODUCTION,
        OTEL_EXPORTER_OTLP_ENDPOINT: 'otel-collector:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift',
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization Bearer secret-token',
        OTEL_SDK_DISABLED: 'maybe',
      }),
    ).toEqual([
      'OTEL_SDK_DISABLED must be true or false (got "maybe")',
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL',
      'OTEL_EXPORTER_OTLP_PROTOCOL must be one of http/protobuf, http/json, grpc (got "thrift")',
      'OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas',
    ]);
  });
});

describe('LOG_LEVEL', () => {
  it("is info unless set, and takes each of pino's levels", () => {
    expect(loadEnvironment(PRODUCTION).logLevel).toBe('info');
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      expect(loadEnvironment({ ...PRODUCTION, LOG_LEVEL: level }).logLevel).toBe(level);
  });

  it('refuses anything else, saying what it takes', () => {
    expect(problemsOf({ ...PRODUCTION, LOG_LEVEL: 'verbose' })).toEqual([
      'LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent (got "verbose")',
    ]);
    expect(problemsOf({ ...PRODUCTION, LOG_LEVEL: 'INFO' })).toEqual(['LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent (got "INFO")']);
  });
});

describe('MIGRATIONS_AT_STARTUP', () => {
  it('runs them by default, verifies when asked, and refuses anything else by name', () => {
    expect(loadEnvironment(PRODUCTION).migrationsAtStartup).toBe('run');
    expect(loadEnvironment({ ...PRODUCTION, MIGRATIONS_AT_STARTUP: 'verify' }).migrationsAtStartup).toBe('verify');
    expect(problemsOf({ ...PRODUCTION, MIGRATIONS_AT_STARTUP: 'skip' })).toEqual(['MIGRATIONS_AT_STARTUP must be one of run, verify (got "skip")']);
  });
});

describe('SHUTDOWN_DRAIN_SECONDS and SHUTDOWN_TIMEOUT_SECONDS', () => {
  it('drain 5 s in production (unset NODE_ENV included) and 0 s in development and test, within 25 s', () => {
    expect(loadEnvironment(PRODUCTION).shutdown).toEqual({ drainSeconds: 5, timeoutSeconds: 25 });
    const { NODE_ENV: _unset, ...unset } = PRODUCTION;
    expect(loadEnvironment(unset).shutdown).toEqual({ drainSeconds: 5, timeoutSeconds: 25 });
    expect(loadEnvironment(DEV).shutdown).toEqual({ drainSeconds: 0, timeoutSeconds: 25 });
    expect(loadEnvironment({ NODE_ENV: 'test' }).shutdown).toEqual({ drainSeconds: 0, timeoutSeconds: 25 });
    expect(loadEnvironment({ ...DEV, SHUTDOWN_DRAIN_SECONDS: '' }).shutdown.drainSeconds).toBe(0);
    expect(loadEnvironment({ ...DEV, SHUTDOWN_DRAIN_SECONDS: '3' }).shutdown.drainSeconds).toBe(3);
    expect(loadEnvironment({ ...PRODUCTION, SHUTDOWN_DRAIN_SECONDS: '0' }).shutdown.drainSeconds).toBe(0);
  });

  it('refuses values out of range, and a timeout that leaves no time to close after the drain', () => {
    expect(problemsOf({ ...PRODUCTION, SHUTDOWN_DRAIN_SECONDS: '301', SHUTDOWN_TIMEOUT_SECONDS: '0' })).toEqual([
      'SHUTDOWN_DRAIN_SECONDS must be an integer between 0 and 300 (got "301")',
      'SHUTDOWN_TIMEOUT_SECONDS must be an integer between 1 and 3600 (got "0")',
    ]);
    expect(problemsOf({ ...PRODUCTION, SHUTDOWN_DRAIN_SECONDS: 'soon' })).toEqual(['SHUTDOWN_DRAIN_SECONDS must be an integer between 0 and 300 (got "soon")']);
    // The production drain default counts too: a 5 s timeout would end the shutdown when the drain does.
    expect(problemsOf({ ...PRODUCTION, SHUTDOWN_TIMEOUT_SECONDS: '5' })).toEqual([
      'SHUTDOWN_TIMEOUT_SECONDS must be greater than SHUTDOWN_DRAIN_SECONDS (got 5, SHUTDOWN_DRAIN_SECONDS is 5)',
    ]);
    expect(loadEnvironment({ ...DEV, SHUTDOWN_TIMEOUT_SECONDS: '5' }).shutdown).toEqual({ drainSeconds: 0, timeoutSeconds: 5 });
  });
});

describe('API_DOCS', () => {
  it('is off in production (unset NODE_ENV included) and on in development and test, unless set', () => {
    expect(loadEnvironment(PRODUCTION).http.apiDocs).toBe(false);
    const { NODE_ENV: _unset, ...unset } = PRODUCTION;
    expect(loadEnvironment(unset).http.apiDocs).toBe(false);
    expect(loadEnvironment(DEV).http.apiDocs).toBe(true);
    expect(loadEnvironment({ NODE_ENV: 'test' }).http.apiDocs).toBe(true);
    expect(loadEnvironment({ ...DEV, API_DOCS: ' ' }).http.apiDocs).toBe(true);
    expect(loadEnvironment({ ...PRODUCTION, API_DOCS: 'on' }).http.apiDocs).toBe(true);
    expect(loadEnvironment({ ...DEV, API_DOCS: 'off' }).http.apiDocs).toBe(false);
    expect(loadEnvironment({ ...DEV, API_DOCS: 'OFF' }).http.apiDocs).toBe(false);
  });

  it('refuses anything but on and off, naming the value', () => {
    expect(problemsOf({ ...PRODUCTION, API_DOCS: 'true' })).toEqual(['API_DOCS must be one of on, off (got "true")']);
    expect(problemsOf({ ...DEV, API_DOCS: 'yes' })).toEqual(['API_DOCS must be one of on, off (got "yes")']);
  });
});

describe('METRICS_ENABLED, METRICS_HOST and METRICS_PORT', () => {
  it('reads them, 0 choosing a free port, and switches the listener off with false in any case', () => {
    expect(loadEnvironment({ ...PRODUCTION, METRICS_HOST: '0.0.0.0', METRICS_PORT: '9100' }).metrics).toEqual({ enabled: true, host: '0.0.0.0', port: 9100 });
    expect(loadEnvironment({ ...DEV, METRICS_PORT: '0' }).metrics.port).toBe(0);
    expect(loadEnvironment({ ...DEV, METRICS_ENABLED: 'FALSE' }).metrics.enabled).toBe(false);
    expect(loadEnvironment({ ...DEV, METRICS_ENABLED: '' }).metrics.enabled).toBe(true);
  });

  it('refuses a bad flag, a bad host, a port out of range, and an app port', () => {
    expect(problemsOf({ ...DEV, METRICS_ENABLED: 'yes', METRICS_HOST: 'two words', METRICS_PORT: '65536' })).toEqual([
      'METRICS_ENABLED must be true or false (got "yes")',
      'METRICS_HOST must be a host name or an IP address (got "two words")',
      'METRICS_PORT must be an integer between 0 and 65535 (got "65536")',
    ]);
    expect(problemsOf({ ...DEV, METRICS_PORT: '3001' })).toEqual([
      'METRICS_PORT must not be PORT or ADMIN_PORT: metrics get a listener of their own (got "3001")',
    ]);
    expect(problemsOf({ ...DEV, PORT: '9464' })).toEqual(['METRICS_PORT must not be PORT or ADMIN_PORT: metrics get a listener of their own (got "9464")']);
    // Off, its port is nobody's business.
    expect(loadEnvironment({ ...DEV, METRICS_ENABLED: 'false', METRICS_PORT: '3000' }).metrics).toEqual({ enabled: false, host: '127.0.0.1', port: 3000 });
  });
});
