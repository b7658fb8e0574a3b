import { randomUUID } from 'node:crypto';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Response } from 'supertest';
import { allowCrossOrigin } from '../../libs/runtime/src/http/cors';
import { preventCaching } from '../../libs/runtime/src/http/cache-control';
import { sendSecurityHeaders } from '../../libs/runtime/src/http/security-headers';
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
const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean)
    .sort();

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
    const reset = await stack
      .adminHttp()
      .post(`/admin/users/${registered.body.userId}/password-reset`)
      .set(...bearer(adminToken))
      .send({ reason: 'Owner asked for a reset' })
      .expect(200);
    expect(reset.body.resetToken).toEqual(expect.any(String));
    expectNotStored(reset, 'admin password reset');
  });

  it('marks every other API answer no-store too, errors included: they are all about the caller', async () => {
    const [user] = await signUp(stack);
    expectNotStored(
      await stack
        .http()
        .get('/auth/me')
        .set(...bearer(user.accessToken))
        .expect(200),
      'me',
    );
    expectNotStored(
      await stack
        .http()
        .get('/auth/sessions')
        .set(...bearer(user.accessToken))
        .expect(200),
      'sessions',
    );
    expectNotStored(await stack.http().get('/auth/me').expect(401), 'me without a token');
    expectNotStored(await stack.http().post('/auth/login').send({ email: 'x' }).expect(400), 'bad body');
    expectNotStored(await stack.http().get('/no-such-route').expect(404), 'unknown route');
    expectNotStored(await stack.http().get('/health').expect(200), 'health');
    expectNotStored(
      await stack
        .adminHttp()
        .get('/admin/audit?limit=1')
        .set(...bearer(adminToken))
        .expect(200),
      'audit page',
    );
    expectNotStored(
      await stack
        .adminHttp()
        .get('/admin/audit')
        .set(...bearer(user.accessToken))
        .expect(403),
      'admin refusal',
    );
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

describe('browser-facing HTTP: refresh, or sign in again', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'browser-refresh-or-sign-in' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('says invalid_token for a refused access token and invalid_grant for a refused refresh, the same whatever the reason', async () => {
    const [ended, other] = await signUp(stack, 2, 'ended');
    await stack
      .http()
      .delete(`/auth/sessions/${ended.sessionId}`)
      .set(...bearer(other.accessToken))
      .expect(200);

    const refused = await stack
      .http()
      .get('/auth/me')
      .set(...bearer(ended.accessToken))
      .expect(401);
    expect(refused.headers['www-authenticate']).toBe(
      'Bearer realm="sessions", error="invalid_token", error_description="The access token is invalid or expired, or its session has ended"',
    );
    expect(refused.body).toMatchObject({ status: 401, code: 'invalid_token' });

    // The session is over: the refresh is refused, and the client signs in again.
    const endedRefresh = await stack.http().post('/auth/refresh').send({ refreshToken: ended.refreshToken }).expect(401);
    const unknownRefresh = await stack
      .http()
      .post('/auth/refresh')
      .send({ refreshToken: 'x'.repeat(43) })
      .expect(401);
    expect(endedRefresh.body).toMatchObject({ status: 401, code: 'invalid_grant', detail: 'The refresh token cannot be used' });
    const { instance: _a, ...ended401 } = endedRefresh.body;
    const { instance: _b, ...unknown401 } = unknownRefresh.body;
    expect(ended401).toEqual(unknown401);
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
    const me = await stack
      .http()
      .get('/auth/me')
      .set('Origin', APP_ORIGIN)
      .set(...bearer(user.accessToken))
      .expect(200);
    expect(me.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(list(me.headers['access-control-expose-headers'])).toEqual(['retry-after', 'www-authenticate', 'x-request-id']);
    expect(varyList(me)).toContain('origin');
    expectNotStored(me, 'me, cross-origin');

    const refused = await stack.http().get('/auth/me').set('Origin', APP_ORIGIN).set('Authorization', 'Bearer a.b.c').expect(401);
    expect(refused.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(refused.headers['www-authenticate']).toMatch(/^Bearer realm="sessions", error="invalid_token"/);
    expect(list(refused.headers['access-control-expose-headers'])).toContain('www-authenticate');

    const elsewhere = await stack
      .http()
      .get('/auth/me')
      .set('Origin', OTHER_ORIGIN)
      .set(...bearer(user.accessToken))
      .expect(200);
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

/** A Content-Security-Policy header as directive -> sources. */
function parseCsp(header: string | undefined): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), sources);
  }
  return directives;
}

/** The sources a fetch directive allows, falling back to default-src as browsers do. */
const sourcesFor = (csp: Map<string, string[]>, directive: string) => csp.get(directive) ?? csp.get('default-src') ?? [];

function expectApiSecurityHeaders(response: Response, what: string): void {
  const csp = parseCsp(response.headers['content-security-policy']);
  expect({ what, csp: Object.fromEntries(csp) }).toEqual({
    what,
    csp: { 'default-src': ["'none'"], 'base-uri': ["'none'"], 'form-action': ["'none'"], 'frame-ancestors': ["'none'"] },
  });
  expect({
    what,
    frame: response.headers['x-frame-options'],
    sniff: response.headers['x-content-type-options'],
    referrer: response.headers['referrer-policy'],
  }).toEqual({
    what,
    frame: 'DENY',
    sniff: 'nosniff',
    referrer: 'no-referrer',
  });
  expect(response.headers['x-powered-by']).toBeUndefined();
}

describe('browser-facing HTTP: security headers', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'browser-headers' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('sends a nothing-may-load CSP, frame denial, nosniff and no HSTS (off by default) on every API answer of both apps', async () => {
    const [user] = await signUp(stack);
    expectApiSecurityHeaders(
      await stack
        .http()
        .get('/auth/me')
        .set(...bearer(user.accessToken))
        .expect(200),
      'me',
    );
    expectApiSecurityHeaders(await stack.http().get('/auth/me').expect(401), '401');
    expectApiSecurityHeaders(await stack.http().get('/nope').expect(404), '404');
    expectApiSecurityHeaders(await stack.http().post('/auth/login').send('{').set('Content-Type', 'application/json').expect(400), 'unparseable body');
    expectApiSecurityHeaders(await stack.http().get('/.well-known/jwks.json').expect(200), 'jwks');
    expectApiSecurityHeaders(await stack.http().get('/docs-json').expect(200), 'OpenAPI document');
    expectApiSecurityHeaders(await stack.adminHttp().get('/admin/audit').expect(401), 'admin 401');
    expect((await stack.http().get('/health')).headers['strict-transport-security']).toBeUndefined();
  });

  it('serves Swagger UI at /docs under a CSP that allows everything its page references, and no inline or evaluated script', async () => {
    const page = await stack.http().get('/docs').redirects(2).expect(200);
    // Relative references resolve against the page's own address.
    const pageUrl = new URL(page.redirects.at(-1) ?? '/docs', 'http://127.0.0.1');
    const csp = parseCsp(page.headers['content-security-policy']);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    for (const [directive, sources] of csp) expect({ directive, unsafeEval: sources.includes("'unsafe-eval'") }).toEqual({ directive, unsafeEval: false });
    expect(sourcesFor(csp, 'script-src')).not.toContain("'unsafe-inline'");

    const html = page.text;
    const attributes = (tag: string, attribute: string) =>
      [...html.matchAll(new RegExp(`<${tag}\\b[^>]*\\b${attribute}="([^"]+)"[^>]*>`, 'gi'))].map((match) => new URL(match[1], pageUrl));
    const scripts = attributes('script', 'src');
    const stylesheets = [...html.matchAll(/<link\b[^>]*rel="stylesheet"[^>]*href="([^"]+)"/gi)].map((match) => new URL(match[1], pageUrl));
    const icons = [...html.matchAll(/<link\b[^>]*rel="icon"[^>]*href="([^"]+)"/gi)].map((match) => new URL(match[1], pageUrl));
    expect(scripts.length).toBeGreaterThanOrEqual(3);
    expect(stylesheets.length).toBeGreaterThanOrEqual(1);

    // Every referenced asset is of this origin, allowed by its directive, served, and of the type nosniff requires.
    const assets = [
      ...scripts.map((url) => ({ url, directive: 'script-src', type: /javascript/ })),
      ...stylesheets.map((url) => ({ url, directive: 'style-src', type: /^text\/css/ })),
      ...icons.map((url) => ({ url, directive: 'img-src', type: /^image\// })),
    ];
    for (const { url, directive, type } of assets) {
      expect({ asset: url.pathname, origin: url.origin, allowed: sourcesFor(csp, directive).includes("'self'") }).toEqual({
        asset: url.pathname,
        origin: pageUrl.origin,
        allowed: true,
      });
      const asset = await stack.http().get(url.pathname).expect(200);
      expect({ asset: url.pathname, type: type.test(asset.headers['content-type'] ?? '') }).toEqual({ asset: url.pathname, type: true });
    }

    // No inline script (script-src has no 'unsafe-inline'); the inline <style> blocks and style attributes need it on style-src.
    expect(html.match(/<script\b(?![^>]*\bsrc=)[^>]*>/gi)).toBeNull();
    expect(/<style\b/i.test(html) || /\sstyle="/i.test(html)).toBe(true);
    expect(sourcesFor(csp, 'style-src')).toContain("'unsafe-inline'");

    // What the stylesheets load: data: images and fonts, or files of this origin.
    for (const sheet of stylesheets) {
      const css = (await stack.http().get(sheet.pathname).expect(200)).text;
      for (const [, raw] of css.matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/g)) {
        const target = new URL(raw, sheet);
        const allowed =
          target.protocol === 'data:'
            ? sourcesFor(csp, 'img-src').includes('data:') && sourcesFor(csp, 'font-src').includes('data:')
            : target.origin === pageUrl.origin;
        expect({ url: raw.slice(0, 60), allowed }).toEqual({ url: raw.slice(0, 60), allowed: true });
      }
    }
  });
});

describe('browser-facing HTTP: HSTS when asked for', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'browser-hsts', settings: { http: { ...LOOPBACK, hstsMaxAgeSeconds: 86_400 } } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('sends Strict-Transport-Security with the configured max-age and without includeSubDomains, on both apps', async () => {
    for (const response of [await stack.http().get('/health'), await stack.adminHttp().get('/admin/audit'), await stack.http().get('/docs').redirects(2)]) {
      expect(response.headers['strict-transport-security']).toBe('max-age=86400');
    }
  });
});

@Controller()
class ProbeController {
  @Get('probe')
  probe() {
    return { ok: true };
  }

  @Get('docs/page')
  docs() {
    return { docs: true };
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

describe('browser-facing HTTP: the same edge on a Fastify host', () => {
  let base: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const app = await NestFactory.create<NestFastifyApplication>(ProbeModule, new FastifyAdapter(), { logger: false });
    preventCaching(app.getHttpAdapter().getInstance());
    sendSecurityHeaders(app.getHttpAdapter().getInstance(), 3_600);
    allowCrossOrigin(app, [APP_ORIGIN]);
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    close = () => app.close();
  });

  afterAll(async () => {
    await close?.();
  });

  it('sends no-store, the API CSP, frame denial, nosniff and HSTS, and answers CORS for the listed origin only', async () => {
    const answer = await fetch(`${base}/probe`, { headers: { origin: APP_ORIGIN } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('pragma')).toBe('no-cache');
    expect(answer.headers.get('content-security-policy')).toBe("default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'");
    expect(answer.headers.get('x-frame-options')).toBe('DENY');
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answer.headers.get('strict-transport-security')).toBe('max-age=3600');
    expect(answer.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(list(answer.headers.get('access-control-expose-headers') ?? undefined)).toEqual(['retry-after', 'www-authenticate', 'x-request-id']);

    const docs = await fetch(`${base}/docs/page`);
    expect(parseCsp(docs.headers.get('content-security-policy') ?? undefined).get('script-src')).toEqual(["'self'"]);
    expect(docs.headers.get('cache-control')).not.toBe('no-store');

    const headers = { origin: APP_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' };
    const preflight = await fetch(`${base}/probe`, { method: 'OPTIONS', headers });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(preflight.headers.get('access-control-max-age')).toBe('600');
    const refused = await fetch(`${base}/probe`, { method: 'OPTIONS', headers: { ...headers, origin: OTHER_ORIGIN } });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });
});
