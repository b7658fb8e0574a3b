import { get } from 'node:http';
import { bearer, login, register, signUp, uniqueEmail } from '../support/api';
import { GENEROUS_RATE_LIMIT, startTestStack, type TestStack } from '../support/test-app';

const ADMIN = { email: uniqueEmail('admin'), password: 'admin password 1' };
const METRICS = { enabled: true, host: '127.0.0.1', port: 0 };

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The Prometheus text format, samples only. */
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value.replace(/\\(.)/g, '$1');
      return { name: match[1], labels, value: Number(match[3]) };
    });
}

/** node:http rather than fetch: fetch refuses some of the ports a free-port listener may get. */
function httpGet(port: number, path: string): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type']), body }));
    }).on('error', reject);
  });
}

async function scrape(stack: TestStack): Promise<Sample[]> {
  const listener = stack.runtime.metricsListener;
  if (!listener) throw new Error('no metrics listener');
  const response = await httpGet(listener.port, '/metrics');
  expect(response.status).toBe(200);
  expect(response.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(response.body);
}

/** The sum of the samples of `name` whose labels include `labels`. */
function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

describe('Prometheus metrics', () => {
  let stack: TestStack;
  let adminToken: string;

  beforeAll(async () => {
    stack = await startTestStack({
      label: 'metrics-e2e',
      admin: ADMIN,
      // Register twice per email at most (a 429 is cheap to get), and a lock on the third failure.
      settings: { metrics: METRICS, rateLimit: { ...GENEROUS_RATE_LIMIT, perAccount: 2, lockoutThreshold: 3 } },
    });
    adminToken = (await login(stack, ADMIN.email, ADMIN.password)).accessToken;
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('counts what real traffic did, by the labels operators query', async () => {
    const before = await scrape(stack);
    const [a, a2] = await signUp(stack, 2, 'metrics');
    const bad = await register(stack);
    await stack.http().post('/auth/login').send({ email: bad.email, password: 'not the password' }).expect(401);
    await stack
      .http()
      .post('/auth/login')
      .send({ email: uniqueEmail('nobody'), password: 'not the password' })
      .expect(401);
    await stack
      .http()
      .get('/auth/me')
      .set(...bearer(a.accessToken))
      .expect(200);
    // A token of ours with its signature changed: refused as invalid, not as expired.
    const forged = `${a.accessToken.slice(0, -6)}${a.accessToken.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'}`;
    await stack
      .http()
      .get('/auth/me')
      .set(...bearer(forged))
      .expect(401);
    await stack
      .http()
      .post('/auth/logout')
      .set(...bearer(a2.accessToken))
      .send({ refreshToken: a2.refreshToken })
      .expect(200);
    await stack
      .http()
      .get('/auth/me')
      .set(...bearer(a2.accessToken))
      .expect(401);
    const revoked = await stack
      .adminHttp()
      .post(`/admin/users/${a.userId}/sessions/revoke-all`)
      .set(...bearer(adminToken))
      .send({ reason: 'laptop stolen' })
      .expect(200);
    expect(revoked.body.revokedCount).toBe(1);
    await stack.http().get('/no/such/route').expect(404);
    const twice = uniqueEmail('twice');
    await stack.http().post('/auth/register').send({ email: twice, password: 'correct horse battery' }).expect(201);
    await stack.http().post('/auth/register').send({ email: twice, password: 'correct horse battery' }).expect(409);
    await stack.http().post('/auth/register').send({ email: twice, password: 'correct horse battery' }).expect(429);
    const locked = await register(stack);
    for (let i = 0; i < 3; i += 1) await stack.http().post('/auth/login').send({ email: locked.email, password: 'a wrong guess' }).expect(401);
    await stack.settleAudit();
    const after = await scrape(stack);
    const moved = (name: string, labels: Record<string, string> = {}) => total(after, name, labels) - total(before, name, labels);

    // signUp's two logins; 2 + 3 wrong passwords (the unknown email is the same answer).
    expect(moved('sessions_logins_total', { app: 'web', outcome: 'succeeded' })).toBe(2);
    expect(moved('sessions_logins_total', { app: 'web', outcome: 'invalid_credentials' })).toBe(5);
    expect(moved('sessions_login_lockouts_started_total', { app: 'web', kind: 'lock' })).toBe(1);
    expect(moved('sessions_revoked_total', { app: 'web', reason: 'logout', actor_type: 'user' })).toBe(1);
    // An administrator's own words are one label value, never a series per sentence.
    expect(moved('sessions_revoked_total', { app: 'admin', reason: 'admin_stated', actor_type: 'admin' })).toBe(1);
    // login() checks /auth/me once per device, plus the one above and the logout's Bearer: all accepted, from the cache or PostgreSQL.
    const accepted =
      moved('sessions_auth_checks_total', { app: 'web', outcome: 'cache_hit' }) + moved('sessions_auth_checks_total', { app: 'web', outcome: 'store' });
    expect(accepted).toBe(4);
    expect(moved('sessions_auth_checks_total', { app: 'web', outcome: 'refused', reason: 'token_invalid' })).toBe(1);
    expect(moved('sessions_auth_checks_total', { app: 'web', outcome: 'refused', reason: 'session_revoked' })).toBe(1);
    // The admin's revoke-all: an accepted check on the admin console.
    expect(moved('sessions_auth_checks_total', { app: 'admin', outcome: 'refused' })).toBe(0);
    expect(moved('http_rate_limited_total', { app: 'web', limiter: 'account', route: '/auth/register' })).toBe(1);
    expect(moved('sessions_audit_writes_total', { app: 'web', outcome: 'written' })).toBeGreaterThan(0);
    expect(moved('sessions_audit_writes_total', { outcome: 'failed' })).toBe(0);

    // The histogram's count series, by route template and status; a path with no route is one value.
    const count = (labels: Record<string, string>) => moved('http_request_duration_seconds_count', labels);
    expect(count({ app: 'admin', method: 'POST', route: '/admin/users/:userId/sessions/revoke-all', status: '200' })).toBe(1);
    expect(count({ app: 'web', method: 'GET', route: '/auth/me', status: '401' })).toBe(2);
    expect(count({ app: 'web', method: 'POST', route: '/auth/register', status: '429' })).toBe(1);
    expect(count({ app: 'web', method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(after.some((sample) => sample.labels.route?.includes('/no/such/route'))).toBe(false);

    // Gauges: the caches' trust per app, the pool and the outbox read at scrape time, and prom-client's process metrics.
    for (const app of ['web', 'admin']) expect(after.find((sample) => sample.name === 'sessions_cache_trusted' && sample.labels.app === app)?.value).toBe(1);
    expect(total(after, 'db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
    expect(after.some((sample) => sample.name === 'db_pool_waiting_requests')).toBe(true);
    expect(after.find((sample) => sample.name === 'sessions_cache_marker_outbox_depth')?.value).toBeGreaterThanOrEqual(0);
    expect(after.some((sample) => sample.name === 'process_cpu_user_seconds_total')).toBe(true);
  });

  it('is served on its own listener only: the apps answer /metrics with a 404, and other paths there are 404 problems', async () => {
    const web = await stack.http().get('/metrics').expect(404);
    expect(web.headers['content-type']).toMatch(/^application\/problem\+json/);
    await stack.adminHttp().get('/metrics').expect(404);
    const listener = stack.runtime.metricsListener!;
    const elsewhere = await httpGet(listener.port, '/');
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.contentType).toMatch(/^application\/problem\+json/);
  });

  it('starts no listener when disabled, and closes its listener with the runtime', async () => {
    const off = await startTestStack({ label: 'metrics-off', shareWith: stack, settings: { metrics: { ...METRICS, enabled: false } } });
    try {
      expect(off.runtime.metricsListener).toBeUndefined();
    } finally {
      await off.close();
    }
    const on = await startTestStack({ label: 'metrics-on', shareWith: stack, settings: { metrics: METRICS } });
    const port = on.runtime.metricsListener!.port;
    expect((await httpGet(port, '/metrics')).status).toBe(200);
    await on.close();
    await expect(httpGet(port, '/metrics')).rejects.toThrow(/ECONNREFUSED/);
  });
});
