import type { Response } from 'supertest';
import { bearer, login, signUp, uniqueEmail } from '../support/api';
import { startTestStack, type TestStack } from '../support/test-app';

const ADMIN = { email: uniqueEmail('admin'), password: 'admin password 1' };

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
