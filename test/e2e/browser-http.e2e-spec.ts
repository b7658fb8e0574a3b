import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { bearer, login, signUp, uniqueEmail } from '../support/api';
import { startTestStack, type TestStack } from '../support/test-app';

const ADMIN = { email: uniqueEmail('admin'), password: 'admin password 1' };
const APP_ORIGIN = 'https://app.example.com';
const ADMIN_ORIGIN = 'https://admin.example.com';
const OTHER_ORIGIN = 'https://evil.example.net';
const LOOPBACK = { host: '127.0.0.1', bodyLimit: '16kb', trustProxy: false } as const;

/** Every CORS response header name (RFC: Fetch standard, "CORS protocol"). */
const corsHeaders = (response: Response) => Object.keys(response.headers).filter((name) => name.startsWith('access-control-'));
const varyList = (response: Response) => (response.headers.vary ?? '').split(',').map((value: string) => value.trim().toLowerCase());
const list = (value: string | undefined) => (value ?? '').split(',').map((item) => item.trim().toLowerCase()).filter(Boolean).sort();

/** no-store among the Cache-Control directives (the health check adds its own), and Pragma for HTTP/1.0 caches. */
function expectNotStored(response: Response, what: string): void {
  const directives = list(response.headers['cache-control']);
  expect({ what, noStore: directives.includes('no-store'), pragma: response.headers.pragma }).toEqual({ what, noStore: true, pragma: 'no-cache' });
}

describe('browser-facing HTTP: caching', () => {
  let stack: TestStack;
  let adminToken: string;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'browser-caching', admin: ADMIN });
    adminToken = (await login(stack, ADMIN.email, ADMIN.password)).accessToken;
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('marks every answer that carries a token no-store (RFC 6749 §5.1): register, login, refresh, the admin-issued reset token', async () => {
    const email = uniqueEmail('cache');
    const password = 'correct horse battery';
    const registered = await stack.http().post('/auth/register').send({ email, password }).expect(201);
    expectNotStored(registered, 'register');
    const signedIn = await stack.http().post('/auth/login').send({ email, password }).expect(200);
    expectNotStored(signedIn, 'login');
    const refreshed = await stack.http().post('/auth/refresh').send({ refreshToken: signedIn.body.refreshToken }).expect(200);
    expectNotStored(refreshed, 'refresh');
    const reset = await stack.adminHttp().post(`/admin/users/${registered.body.userId}/password-reset`).set(...bearer(adminToken)).send({ reason: 'Owner asked for a reset' }).expect(200);
    expect(reset.body.resetToken).toEqual(expect.any(String));
    expectNotStored(reset, 'admin password reset');
  });

  it('marks every other API answer no-store too, errors included: they are all about the caller', async () => {
    const [user] = await signUp(stack);
    expectNotStored(await stack.http().get('/auth/me').set(...bearer(user.accessToken)).expect(200), 'me');
    expectNotStored(await stack.http().get('/auth/sessions').set(...bearer(user.accessToken)).expect(200), 'sessions');
    expectNotStored(await stack.http().get('/auth/me').expect(401), 'me without a token');
    expectNotStored(await stack.http().post('/auth/login').send({ email: 'x' }).expect(400), 'bad body');
    expectNotStored(await stack.http().get('/no-such-route').expect(404), 'unknown route');
    expectNotStored(await stack.http().get('/health').expect(200), 'health');
    expectNotStored(await stack.adminHttp().get('/admin/audit?limit=1').set(...bearer(adminToken)).expect(200), 'audit page');
    expectNotStored(await stack.adminHttp().get('/admin/audit').set(...bearer(user.accessToken)).expect(403), 'admin refusal');
  });

  it('lets the public keys be cached for a short time, without the no-store pair', async () => {
    const jwks = await stack.http().get('/.well-known/jwks.json').expect(200);
    expect(jwks.headers['cache-control']).toBe('public, max-age=300');
    expect(jwks.headers.pragma).toBeUndefined();
  });

  it('leaves the OpenAPI UI and its assets to the static server (the same for everyone)', async () => {
    for (const path of ['/docs', '/docs-json']) {
      const response = await stack.http().get(path).redirects(1).expect(200);
      expect({ path, noStore: list(response.headers['cache-control']).includes('no-store') }).toEqual({ path, noStore: false });
      expect(response.headers.pragma).toBeUndefined();
    }
  });
});

describe('browser-facing HTTP: CORS off by default', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'browser-cors-off' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('sends no CORS header at all, on a preflight or a plain request, on either app', async () => {
    for (const http of [() => stack.http(), () => stack.adminHttp()]) {
      const preflight = await http()
        .options('/auth/login')
        .set('Origin', APP_ORIGIN)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'content-type');
      expect(preflight.status).toBe(404);
      expect(corsHeaders(preflight)).toEqual([]);
      const plain = await http().get('/health').set('Origin', APP_ORIGIN);
      expect(corsHeaders(plain)).toEqual([]);
    }
  });
});

describe('browser-facing HTTP: CORS from CORS_ORIGINS and ADMIN_CORS_ORIGINS', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      label: 'browser-cors-on',
      admin: ADMIN,
      settings: { http: { ...LOOPBACK, corsOrigins: { web: [APP_ORIGIN, 'http://localhost:5173'], admin: [ADMIN_ORIGIN] } } },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  const preflight = (http: () => ReturnType<TestStack['http']>, path: string, origin: string, method: string, headers?: string) => {
    const call = http().options(path).set('Origin', origin).set('Access-Control-Request-Method', method);
    return headers ? call.set('Access-Control-Request-Headers', headers) : call;
  };

  it('answers a preflight from a listed origin with 204, the methods, the headers and a max-age', async () => {
    const cases = [
      ['/auth/login', 'POST', 'content-type'],
      ['/auth/me', 'GET', 'authorization,x-request-id'],
      [`/auth/sessions/${randomUUID()}`, 'DELETE', 'authorization'],
    ] as const;
    for (const [path, method, headers] of cases) {
      const response = await preflight(() => stack.http(), path, APP_ORIGIN, method, headers);
      expect({ path, status: response.status }).toEqual({ path, status: 204 });
      expect(response.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(list(response.headers['access-control-allow-methods'])).toEqual(['delete', 'get', 'head', 'post']);
      expect(list(response.headers['access-control-allow-headers'])).toEqual(['authorization', 'content-type', 'x-request-id']);
      expect(response.headers['access-control-max-age']).toBe('600');
      expect(response.headers['access-control-allow-credentials']).toBeUndefined();
      expect(varyList(response)).toContain('origin');
    }
    const local = await preflight(() => stack.http(), '/auth/refresh', 'http://localhost:5173', 'POST', 'content-type');
    expect(local.status).toBe(204);
    expect(local.headers['access-control-allow-origin']).toBe('http://localhost:5173');
  });

  it('refuses a preflight from any other origin: no Access-Control-Allow-Origin, which the browser takes as a no', async () => {
    for (const origin of [OTHER_ORIGIN, 'https://app.example.com.evil.example.net', 'http://app.example.com', 'https://app.example.com:8443', 'null']) {
      const response = await preflight(() => stack.http(), '/auth/login', origin, 'POST', 'content-type');
      expect({ origin, allowOrigin: response.headers['access-control-allow-origin'] }).toEqual({ origin, allowOrigin: undefined });
      expect(varyList(response)).toContain('origin');
    }
  });

  it('lets a listed page read answers, errors and their challenge included: exposes WWW-Authenticate, Retry-After and X-Request-Id', async () => {
    const [user] = await signUp(stack);
    const me = await stack.http().get('/auth/me').set('Origin', APP_ORIGIN).set(...bearer(user.accessToken)).expect(200);
    expect(me.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(list(me.headers['access-control-expose-headers'])).toEqual(['retry-after', 'www-authenticate', 'x-request-id']);
    expect(varyList(me)).toContain('origin');
    expectNotStored(me, 'me, cross-origin');

    const refused = await stack.http().get('/auth/me').set('Origin', APP_ORIGIN).set('Authorization', 'Bearer a.b.c').expect(401);
    expect(refused.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(refused.headers['www-authenticate']).toMatch(/^Bearer realm="sessions", error="invalid_token"/);
    expect(list(refused.headers['access-control-expose-headers'])).toContain('www-authenticate');

    const elsewhere = await stack.http().get('/auth/me').set('Origin', OTHER_ORIGIN).set(...bearer(user.accessToken)).expect(200);
    expect(elsewhere.headers['access-control-allow-origin']).toBeUndefined();
    expect(varyList(elsewhere)).toContain('origin');
  });

  it('keeps each app on its own list: the web app origin cannot call the admin console, nor the admin origin the web API', async () => {
    const toAdmin = await preflight(() => stack.adminHttp(), '/admin/audit', APP_ORIGIN, 'GET', 'authorization');
    expect(toAdmin.headers['access-control-allow-origin']).toBeUndefined();
    const adminUi = await preflight(() => stack.adminHttp(), `/admin/sessions/${randomUUID()}/revoke`, ADMIN_ORIGIN, 'POST', 'authorization,content-type');
    expect(adminUi.status).toBe(204);
    expect(adminUi.headers['access-control-allow-origin']).toBe(ADMIN_ORIGIN);
    const toWeb = await preflight(() => stack.http(), '/auth/login', ADMIN_ORIGIN, 'POST', 'content-type');
    expect(toWeb.headers['access-control-allow-origin']).toBeUndefined();
  });
});
