import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { ServiceProcess } from '../support/service-process';
import { TEST_REDIS_URL } from '../support/test-app';
import { createTestDatabase, deleteRedisKeys, type TestDatabase, testRedisPrefix } from '../support/test-database';

jest.setTimeout(120_000);

const pkcs8 = (key: { export(options: { format: 'pem'; type: 'pkcs8' }): string | Buffer }) => key.export({ format: 'pem', type: 'pkcs8' }).toString();

/**
 * The built service signing with EdDSA and then ES256 from its environment alone (issue 13 point
 * 7): its JWKS verifies its tokens for a verifier that never sees a secret, and a rotation keeps
 * the old key published, and its tokens accepted, exactly as long as ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS
 * names it.
 */
describe('asymmetric access tokens configured from the environment', () => {
  let database: TestDatabase;
  const cachePrefix = testRedisPrefix('asymmetric-signing');
  let service: ServiceProcess | undefined;
  const first = generateKeyPairSync('ed25519');
  const second = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await service?.stop();
    await deleteRedisKeys(TEST_REDIS_URL, cachePrefix);
    await database?.drop();
  });

  const post = (path: string, body: unknown) =>
    fetch(`${service!.webUrl}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const meStatus = async (token: string) => (await fetch(`${service!.webUrl}/auth/me`, { headers: { Authorization: `Bearer ${token}` } })).status;
  const jwks = async () => (await (await fetch(`${service!.webUrl}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, string>> };
  /** The way an offline verifier checks: the published keys only, fetched fresh. */
  const verifyOffline = (token: string) => jwtVerify(token, createRemoteJWKSet(new URL(`${service!.webUrl}/.well-known/jwks.json`)));

  async function signIn(email: string): Promise<string> {
    const password = 'correct horse battery';
    await post('/auth/register', { email, password });
    const response = await post('/auth/login', { email, password });
    expect(response.status).toBe(200);
    return ((await response.json()) as { accessToken: string }).accessToken;
  }

  it('signs with the configured key, publishes it, and rotates with an overlap of two published keys', async () => {
    service = await ServiceProcess.start({
      label: 'asymmetric-signing',
      apps: 'web',
      databaseUrl: database.url,
      redisUrl: TEST_REDIS_URL,
      cachePrefix,
      // An empty value counts as unset: no HS256 secret at all.
      env: {
        ACCESS_TOKEN_SECRET: '',
        ACCESS_TOKEN_ALGORITHM: 'EdDSA',
        ACCESS_TOKEN_PRIVATE_KEY: pkcs8(first.privateKey).replace(/\n/g, '\\n'),
        ACCESS_TOKEN_KEY_ID: 'k1',
      },
    });
    const email = `asym-${randomUUID().slice(0, 8)}@example.com`;
    const oldToken = await signIn(email);
    expect(decodeProtectedHeader(oldToken)).toMatchObject({ alg: 'EdDSA', kid: 'k1' });
    const before = await jwks();
    expect(before.keys).toEqual([expect.objectContaining({ kid: 'k1', alg: 'EdDSA', kty: 'OKP', crv: 'Ed25519', use: 'sig' })]);
    expect(before.keys[0]).not.toHaveProperty('d');
    await expect(verifyOffline(oldToken)).resolves.toMatchObject({ protectedHeader: { kid: 'k1' } });
    expect(await meStatus(oldToken)).toBe(200);

    // Rotation, step 1: a new key signs; the old one, copied from the JWKS as it was served, still verifies.
    await service.restart({
      ACCESS_TOKEN_ALGORITHM: 'ES256',
      ACCESS_TOKEN_PRIVATE_KEY: pkcs8(second.privateKey),
      ACCESS_TOKEN_KEY_ID: 'k2',
      ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS: JSON.stringify(before),
    });
    expect((await jwks()).keys.map((key) => [key.kid, key.alg])).toEqual([
      ['k2', 'ES256'],
      ['k1', 'EdDSA'],
    ]);
    const newToken = ((await (await post('/auth/login', { email, password: 'correct horse battery' })).json()) as { accessToken: string }).accessToken;
    expect(decodeProtectedHeader(newToken)).toMatchObject({ alg: 'ES256', kid: 'k2' });
    await expect(verifyOffline(newToken)).resolves.toMatchObject({ protectedHeader: { kid: 'k2' } });
    await expect(verifyOffline(oldToken)).resolves.toMatchObject({ protectedHeader: { kid: 'k1' } });
    expect(await meStatus(oldToken)).toBe(200);
    expect(await meStatus(newToken)).toBe(200);

    // Step 2, once ACCESS_TOKEN_TTL_SECONDS has passed: the old key leaves the JWKS and its tokens are refused.
    await service.restart({ ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS: '' });
    expect((await jwks()).keys.map((key) => key.kid)).toEqual(['k2']);
    expect(await meStatus(oldToken)).toBe(401);
    await expect(verifyOffline(oldToken)).rejects.toThrow();
    expect(await meStatus(newToken)).toBe(200);
  });
});
