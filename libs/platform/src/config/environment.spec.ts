import {
  ConfigurationError,
  DEVELOPMENT_ACCESS_TOKEN_SECRET,
  ENVIRONMENT_VARIABLES,
  Environment,
  loadEnvironment,
} from './environment';

const SECRET = 'a-production-secret-of-at-least-32-chars';

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
  it('applies every default to an empty environment', () => {
    const expected: Environment = {
      nodeEnv: 'development',
      http: { port: 3000, adminPort: 3001, host: '0.0.0.0', trustProxy: false, bodyLimit: '16kb' },
      database: { url: undefined, poolSize: 10, statementTimeoutMs: 5000, embeddedDataDir: undefined },
      cache: { redisUrl: undefined, store: 'keyv-redis', keyPrefix: 'sessions:', timeoutMs: 250 },
      accessToken: { secret: DEVELOPMENT_ACCESS_TOKEN_SECRET, ttlSeconds: 900 },
      usingDevelopmentSecret: true,
      sessionTtlSeconds: 2_592_000,
      passwordHashing: { memoryCostKiB: 19_456, timeCost: 2, parallelism: 1 },
      admin: undefined,
      refreshReuseGraceSeconds: 5,
      interruptedAfterSeconds: 60,
      authCheck: 'session',
      rateLimit: { windowSeconds: 60, perIp: 30, perAccount: 10, lockoutThreshold: 10, lockoutSeconds: 900, loginMaxDelaySeconds: 300, perUser: 60, perIpAuthenticated: 600 },
    };
    expect(loadEnvironment({})).toEqual(expected);
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
      CACHE_STORE: 'redis-yet',
      CACHE_KEY_PREFIX: 'prod:sessions:',
      CACHE_TIMEOUT_MS: '100',
      ACCESS_TOKEN_SECRET: SECRET,
      ACCESS_TOKEN_TTL_SECONDS: '600',
      SESSION_TTL_SECONDS: '86400',
      ARGON2_MEMORY_KIB: '65536',
      ARGON2_TIME_COST: '3',
      ARGON2_PARALLELISM: '4',
      ADMIN_EMAIL: 'admin@example.com',
      ADMIN_PASSWORD: 'correct horse battery',
      TRUST_PROXY: '10.0.0.0/8, loopback,::1',
      BODY_LIMIT: '1mb',
      REFRESH_REUSE_GRACE_SECONDS: '3',
      INTERRUPTED_AFTER_SECONDS: '120',
      RATE_LIMIT_WINDOW_SECONDS: '300',
      RATE_LIMIT_PER_IP: '100',
      RATE_LIMIT_PER_ACCOUNT: '5',
      LOGIN_LOCKOUT_THRESHOLD: '3',
      LOGIN_LOCKOUT_SECONDS: '3600',
      UNRELATED: 'ignored',
    });
    expect(environment).toEqual({
      nodeEnv: 'production',
      http: { port: 8080, adminPort: 8081, host: '127.0.0.1', trustProxy: '10.0.0.0/8,loopback,::1', bodyLimit: '1mb' },
      database: { url: 'postgresql://app:pw@db:5432/sessions', poolSize: 20, statementTimeoutMs: 0, embeddedDataDir: '/var/lib/sessions' },
      cache: { redisUrl: 'rediss://:pw@cache:6380/2', store: 'redis-yet', keyPrefix: 'prod:sessions:', timeoutMs: 100 },
      accessToken: { secret: SECRET, ttlSeconds: 600 },
      usingDevelopmentSecret: false,
      sessionTtlSeconds: 86_400,
      passwordHashing: { memoryCostKiB: 65_536, timeCost: 3, parallelism: 4 },
      admin: { email: 'admin@example.com', password: 'correct horse battery' },
      refreshReuseGraceSeconds: 3,
      interruptedAfterSeconds: 120,
      authCheck: 'session',
      rateLimit: { windowSeconds: 300, perIp: 100, perAccount: 5, lockoutThreshold: 3, lockoutSeconds: 3600, loginMaxDelaySeconds: 300, perUser: 60, perIpAuthenticated: 600 },
    });
  });

  it('treats empty values as unset', () => {
    const environment = loadEnvironment({ PORT: '', DATABASE_URL: '  ', ADMIN_EMAIL: '', ADMIN_PASSWORD: '' });
    expect(environment.http.port).toBe(3000);
    expect(environment.database.url).toBeUndefined();
    expect(environment.admin).toBeUndefined();
  });

  it.each([
    ['true', true],
    ['FALSE', false],
    ['2', 2],
    ['192.168.1.10', '192.168.1.10'],
    ['uniquelocal,fd00::/8', 'uniquelocal,fd00::/8'],
  ])('passes TRUST_PROXY=%s through as %p', (value, expected) => {
    expect(loadEnvironment({ TRUST_PROXY: value }).http.trustProxy).toEqual(expected);
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
      'ARGON2_MEMORY_KIB must be an integer between 8192 and 4294967295 (got "1024")',
      'ARGON2_TIME_COST must be an integer between 1 and 10 (got "1.5")',
      'ARGON2_PARALLELISM must be an integer between 1 and 16 (got "17")',
      'TRUST_PROXY must be true, false, a number of hops, or a comma-separated list of IP addresses or CIDR subnets (got "not-an-ip")',
      'BODY_LIMIT must be a size such as 16kb, 1mb or a number of bytes (got "lots")',
      'RATE_LIMIT_WINDOW_SECONDS must be an integer between 1 and 86400 (got "0")',
      'RATE_LIMIT_PER_IP must be an integer between 1 and 1000000 (got "many")',
      'RATE_LIMIT_PER_ACCOUNT must be an integer between 1 and 1000000 (got "-1")',
      'LOGIN_LOCKOUT_THRESHOLD must be an integer between 1 and 1000 (got "1001")',
      'LOGIN_LOCKOUT_SECONDS must be an integer between 1 and 86400 (got "86401")',
    ]);
  });

  it('puts every problem in the message, one per line', () => {
    expect(() => loadEnvironment({ PORT: 'abc', ADMIN_PORT: '-1' })).toThrow(
      new ConfigurationError([
        'PORT must be an integer between 1 and 65535 (got "abc")',
        'ADMIN_PORT must be an integer between 1 and 65535 (got "-1")',
      ]),
    );
    expect(() => loadEnvironment({ PORT: 'abc' })).toThrow(
      'Invalid environment configuration:\n  - PORT must be an integer between 1 and 65535 (got "abc")',
    );
  });

  describe('URLs', () => {
    it.each(['postgres://db/sessions', 'postgresql://u:p@db:5432/sessions?sslmode=require'])('accepts DATABASE_URL=%s', (url) => {
      expect(loadEnvironment({ DATABASE_URL: url }).database.url).toBe(url);
    });

    it('rejects other schemes without echoing the password', () => {
      const problems = problemsOf({ DATABASE_URL: 'mysql://root:hunter2@db/x', REDIS_URL: 'not a url with hunter2' });
      expect(problems).toEqual([
        'DATABASE_URL must be a postgres:// or postgresql:// URL (got a "mysql://" URL; the value is not shown as it may hold a password)',
        'REDIS_URL must be a redis:// or rediss:// URL (got a value that is not a URL; the value is not shown as it may hold a password)',
      ]);
      expect(problems.join('\n')).not.toContain('hunter2');
    });

    it('accepts redis:// and rediss://', () => {
      expect(loadEnvironment({ REDIS_URL: 'redis://127.0.0.1:6379' }).cache.redisUrl).toBe('redis://127.0.0.1:6379');
      expect(loadEnvironment({ REDIS_URL: 'rediss://cache:6380' }).cache.redisUrl).toBe('rediss://cache:6380');
    });
  });

  describe('ACCESS_TOKEN_SECRET', () => {
    it('is required in production', () => {
      expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['ACCESS_TOKEN_SECRET is required when NODE_ENV=production']);
    });

    it.each(['development', 'test'])('falls back to the development secret in %s, and says so', (nodeEnv) => {
      const environment = loadEnvironment({ NODE_ENV: nodeEnv });
      expect(environment.accessToken.secret).toBe(DEVELOPMENT_ACCESS_TOKEN_SECRET);
      expect(environment.usingDevelopmentSecret).toBe(true);
    });

    it('must be at least 32 characters, and its value is never shown', () => {
      const problems = problemsOf({ NODE_ENV: 'test', ACCESS_TOKEN_SECRET: 'short-secret' });
      expect(problems).toEqual(['ACCESS_TOKEN_SECRET must be at least 32 characters long (got 12)']);
    });

    it('refuses the public development secret', () => {
      expect(problemsOf({ NODE_ENV: 'production', ACCESS_TOKEN_SECRET: DEVELOPMENT_ACCESS_TOKEN_SECRET })).toEqual([
        'ACCESS_TOKEN_SECRET must not be the public development secret',
      ]);
    });

    it('is used as given when set', () => {
      const environment = loadEnvironment({ NODE_ENV: 'production', ACCESS_TOKEN_SECRET: SECRET });
      expect(environment.accessToken.secret).toBe(SECRET);
      expect(environment.usingDevelopmentSecret).toBe(false);
    });
  });

  describe('lifetimes', () => {
    it('requires the session to outlive the access token', () => {
      expect(problemsOf({ ACCESS_TOKEN_TTL_SECONDS: '7200', SESSION_TTL_SECONDS: '3600' })).toEqual([
        'SESSION_TTL_SECONDS must be greater than ACCESS_TOKEN_TTL_SECONDS (got 3600, ACCESS_TOKEN_TTL_SECONDS is 7200)',
      ]);
    });

    it('reports only the range when the session lifetime is out of range', () => {
      expect(problemsOf({ SESSION_TTL_SECONDS: '60' })).toEqual([
        'SESSION_TTL_SECONDS must be an integer between 3600 and 31536000 (got "60")',
      ]);
    });

    it('does not compare against an access token lifetime that is itself invalid', () => {
      expect(problemsOf({ ACCESS_TOKEN_TTL_SECONDS: 'soon' })).toEqual([
        'ACCESS_TOKEN_TTL_SECONDS must be an integer between 60 and 86400 (got "soon")',
      ]);
    });
  });

  describe('ADMIN_EMAIL and ADMIN_PASSWORD', () => {
    it('requires both or neither', () => {
      expect(problemsOf({ ADMIN_EMAIL: 'admin@example.com' })).toEqual([
        'ADMIN_PASSWORD must be set when ADMIN_EMAIL is (set both or neither)',
      ]);
      expect(problemsOf({ ADMIN_PASSWORD: 'long enough' })).toEqual([
        'ADMIN_EMAIL must be set when ADMIN_PASSWORD is (set both or neither)',
      ]);
    });

    it('checks the email and the password length without showing the password', () => {
      const problems = problemsOf({ ADMIN_EMAIL: 'admin', ADMIN_PASSWORD: 'pw123' });
      expect(problems).toEqual([
        'ADMIN_EMAIL must be an email address (got "admin")',
        'ADMIN_PASSWORD must be 8 to 128 characters long (got 5)',
      ]);
      expect(problemsOf({ ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'x'.repeat(129) })).toEqual([
        'ADMIN_PASSWORD must be 8 to 128 characters long (got 129)',
      ]);
    });
  });

  it('rejects a HOST with spaces, and a TRUST_PROXY subnet with too many bits', () => {
    expect(problemsOf({ HOST: 'my host', TRUST_PROXY: '10.0.0.0/33' })).toEqual([
      'HOST must be a host name or an IP address (got "my host")',
      'TRUST_PROXY must be true, false, a number of hops, or a comma-separated list of IP addresses or CIDR subnets (got "10.0.0.0/33")',
    ]);
  });

  it('shortens a very long quoted value', () => {
    const [problem] = problemsOf({ PORT: '9'.repeat(100) });
    expect(problem).toBe(`PORT must be an integer between 1 and 65535 (got "${'9'.repeat(57)}...")`);
  });
});

describe('ENVIRONMENT_VARIABLES', () => {
  it('lists each variable once, with defaults that load cleanly', () => {
    const names = ENVIRONMENT_VARIABLES.map((variable) => variable.name);
    expect(new Set(names).size).toBe(names.length);
    const defaults = Object.fromEntries(
      ENVIRONMENT_VARIABLES.flatMap((variable) => ('default' in variable ? [[variable.name, variable.default]] : [])),
    );
    expect(defaults).toMatchObject({ PORT: '3000', CACHE_KEY_PREFIX: 'sessions:', TRUST_PROXY: 'false', BODY_LIMIT: '16kb' });
    expect(() => loadEnvironment(defaults)).not.toThrow();
  });
});

describe('BENCHMARK_AUTH_CHECK', () => {
  const production = { NODE_ENV: 'production', ACCESS_TOKEN_SECRET: 'a-production-secret-that-is-long-enough-1234' };

  it('can weaken the auth check for benchmarks outside production only', () => {
    expect(loadEnvironment({ BENCHMARK_AUTH_CHECK: 'signature-only' }).authCheck).toBe('signature-only');
    expect(() => loadEnvironment({ ...production, BENCHMARK_AUTH_CHECK: 'signature-only' })).toThrow(/BENCHMARK_AUTH_CHECK must be "session" when NODE_ENV=production/);
    expect(loadEnvironment(production).authCheck).toBe('session');
  });

  it('rejects an unknown mode', () => {
    expect(() => loadEnvironment({ BENCHMARK_AUTH_CHECK: 'none' })).toThrow(/BENCHMARK_AUTH_CHECK must be one of/);
  });
});
