import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigurationError, loadEnvironment } from './environment';

const PRODUCTION = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/sessions', REDIS_URL: 'redis://cache:6379' } as const;
const pem = (key: { export(options: { format: 'pem'; type: 'pkcs8' | 'spki' }): string | Buffer }, type: 'pkcs8' | 'spki') =>
  key.export({ format: 'pem', type }).toString();
const ed = generateKeyPairSync('ed25519');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const EDDSA = { ...PRODUCTION, ACCESS_TOKEN_ALGORITHM: 'EdDSA', ACCESS_TOKEN_PRIVATE_KEY: pem(ed.privateKey, 'pkcs8'), ACCESS_TOKEN_KEY_ID: 'k2' } as const;

function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadEnvironment(env);
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('ACCESS_TOKEN_ALGORITHM and the signing keys', () => {
  it('HS256 by default: no keys, the secret signs', () => {
    const environment = loadEnvironment({ ...PRODUCTION, ACCESS_TOKEN_SECRET: 'a-production-secret-of-at-least-32-chars' });
    expect(environment.accessToken.keys).toBeUndefined();
  });

  it('EdDSA from a PEM (one line with \\n escapes too) needs no ACCESS_TOKEN_SECRET in production, and warns of no generated secret', () => {
    for (const privateKey of [EDDSA.ACCESS_TOKEN_PRIVATE_KEY, EDDSA.ACCESS_TOKEN_PRIVATE_KEY.replace(/\n/g, '\\n')]) {
      const environment = loadEnvironment({ ...EDDSA, ACCESS_TOKEN_PRIVATE_KEY: privateKey });
      expect(environment.accessToken.keys).toMatchObject({ algorithm: 'EdDSA', keyId: 'k2', previousPublicKeys: [] });
      expect(environment.generatedAccessTokenSecret).toBe(false);
      // The console's CSRF secret: the same on every instance that has the key, not the key itself.
      expect(environment.accessToken.secret).toBe(loadEnvironment(EDDSA).accessToken.secret);
      expect(environment.accessToken.secret).toMatch(/^[\w-]{43}$/);
    }
  });

  it('ES256 from ACCESS_TOKEN_PRIVATE_KEY_FILE, with previous keys as a JWK Set and as PEMs', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'keys-')), 'signing.pem');
    writeFileSync(file, pem(ec.privateKey, 'pkcs8'));
    const old = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwks = { keys: [{ ...old.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' }] };
    const environment = loadEnvironment({
      ...PRODUCTION,
      ACCESS_TOKEN_ALGORITHM: 'ES256',
      ACCESS_TOKEN_PRIVATE_KEY_FILE: file,
      ACCESS_TOKEN_KEY_ID: 'k2',
      ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS: JSON.stringify(jwks),
    });
    expect(environment.accessToken.keys?.previousPublicKeys).toEqual([{ algorithm: 'ES256', keyId: 'k1', publicKey: expect.anything() }]);
    const withPem = loadEnvironment({
      ...EDDSA,
      ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS: JSON.stringify([{ kid: 'k1', alg: 'ES256', pem: pem(old.publicKey, 'spki') }]),
    });
    expect(withPem.accessToken.keys?.previousPublicKeys?.[0]).toMatchObject({ algorithm: 'ES256', keyId: 'k1' });
  });

  it.each([
    [
      'an HS256 secret given with EdDSA',
      { ...EDDSA, ACCESS_TOKEN_SECRET: 'a-production-secret-of-at-least-32-chars' },
      'ACCESS_TOKEN_SECRET is an HS256 secret, but ACCESS_TOKEN_ALGORITHM is EdDSA (signed with ACCESS_TOKEN_PRIVATE_KEY): remove ACCESS_TOKEN_SECRET',
    ],
    [
      'a P-256 key for EdDSA',
      { ...EDDSA, ACCESS_TOKEN_PRIVATE_KEY: pem(ec.privateKey, 'pkcs8') },
      'ACCESS_TOKEN_PRIVATE_KEY must be an Ed25519 key for EdDSA (got ec prime256v1 key)',
    ],
    ['an Ed25519 key for ES256', { ...EDDSA, ACCESS_TOKEN_ALGORITHM: 'ES256' }, 'ACCESS_TOKEN_PRIVATE_KEY must be a P-256 EC key for ES256 (got ed25519 key)'],
    [
      'no kid',
      { ...EDDSA, ACCESS_TOKEN_KEY_ID: undefined },
      'ACCESS_TOKEN_KEY_ID is required with ACCESS_TOKEN_ALGORITHM=EdDSA (the kid of every token and of the key in the JWKS)',
    ],
    ['a kid with a space', { ...EDDSA, ACCESS_TOKEN_KEY_ID: 'key 2' }, 'ACCESS_TOKEN_KEY_ID must be 1 to 128 printable ASCII characters without spaces'],
    [
      'no key',
      { ...EDDSA, ACCESS_TOKEN_PRIVATE_KEY: undefined },
      'ACCESS_TOKEN_PRIVATE_KEY or ACCESS_TOKEN_PRIVATE_KEY_FILE is required with ACCESS_TOKEN_ALGORITHM=EdDSA',
    ],
    [
      'both a key and a file',
      { ...EDDSA, ACCESS_TOKEN_PRIVATE_KEY_FILE: '/run/secrets/key.pem' },
      'ACCESS_TOKEN_PRIVATE_KEY and ACCESS_TOKEN_PRIVATE_KEY_FILE are mutually exclusive: set one',
    ],
    [
      'a public key as the private one',
      { ...EDDSA, ACCESS_TOKEN_PRIVATE_KEY: pem(ed.publicKey, 'spki') },
      'ACCESS_TOKEN_PRIVATE_KEY is not a PEM private key (PKCS#8, "-----BEGIN PRIVATE KEY-----")',
    ],
    [
      'a missing key file',
      { ...EDDSA, ACCESS_TOKEN_PRIVATE_KEY: undefined, ACCESS_TOKEN_PRIVATE_KEY_FILE: '/nonexistent/key.pem' },
      'ACCESS_TOKEN_PRIVATE_KEY_FILE cannot be read (ENOENT)',
    ],
    [
      'a key given with HS256',
      { ...PRODUCTION, ACCESS_TOKEN_SECRET: 'a-production-secret-of-at-least-32-chars', ACCESS_TOKEN_KEY_ID: 'k1' },
      'ACCESS_TOKEN_KEY_ID is set but ACCESS_TOKEN_ALGORITHM is HS256 (signed with ACCESS_TOKEN_SECRET): set ACCESS_TOKEN_ALGORITHM=EdDSA or ES256, or remove ACCESS_TOKEN_KEY_ID',
    ],
    ['an unknown algorithm', { ...EDDSA, ACCESS_TOKEN_ALGORITHM: 'RS256' }, 'ACCESS_TOKEN_ALGORITHM must be one of HS256, EdDSA, ES256 (got "RS256")'],
    [
      'previous keys that are not JSON',
      { ...EDDSA, ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS: 'k1:abc' },
      'ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS must be JSON: a JWK Set {"keys": [...]} or an array of public JWKs (or of {"kid", "alg", "pem"})',
    ],
    [
      'a previous key without kid',
      { ...EDDSA, ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS: JSON.stringify([{ ...ed.publicKey.export({ format: 'jwk' }), alg: 'EdDSA' }]) },
      'ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS[0] needs a "kid" of 1 to 128 printable ASCII characters',
    ],
    [
      'a private previous key',
      { ...EDDSA, ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS: JSON.stringify([{ ...ed.privateKey.export({ format: 'jwk' }), kid: 'k1', alg: 'EdDSA' }]) },
      'ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS[0] is a private JWK ("d"): give the public key only',
    ],
    [
      'a previous key whose alg is not its type',
      { ...EDDSA, ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS: JSON.stringify([{ ...ed.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256' }]) },
      'ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS[0] must be a P-256 EC key for ES256 (got ed25519 key)',
    ],
    [
      'a previous key with the current kid',
      { ...EDDSA, ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS: JSON.stringify([{ ...ed.publicKey.export({ format: 'jwk' }), kid: 'k2', alg: 'EdDSA' }]) },
      'ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS: the key id "k2" is used by more than one key (a new key needs a new ACCESS_TOKEN_KEY_ID)',
    ],
  ])('refuses %s at start-up with one clear problem, never the key', (_what, env, problem) => {
    const problems = problemsOf(env);
    expect(problems).toEqual([problem]);
    const keyBytes = Object.values(env).flatMap((value) => (value?.includes('-----BEGIN') ? [value.split('\n')[1]] : []));
    for (const bytes of keyBytes) expect(problems.join('\n')).not.toContain(bytes);
  });
});

describe('SERVICE_CLIENTS', () => {
  const hash = 'a'.repeat(64);
  const DEV = { NODE_ENV: 'development' } as const;

  it('is empty when unset, and parses name:sha256 pairs', () => {
    expect(loadEnvironment(DEV).serviceClients).toEqual([]);
    expect(loadEnvironment({ ...DEV, SERVICE_CLIENTS: `orders:${hash}, billing.eu:${'b'.repeat(64)}` }).serviceClients).toEqual([
      { name: 'orders', secretSha256: hash },
      { name: 'billing.eu', secretSha256: 'b'.repeat(64) },
    ]);
  });

  it.each([
    [`orders:${hash.slice(1)}`, 1],
    [`orders:${hash.toUpperCase()}`, 1],
    [`orders:${hash},a secret`, 2],
    [`:${hash}`, 1],
  ])('refuses %p, naming the entry but never its hash', (value, entry) => {
    const problems = problemsOf({ ...DEV, SERVICE_CLIENTS: value });
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^SERVICE_CLIENTS entry ${entry} must be name:sha256`))]);
    expect(problems[0].toLowerCase()).not.toContain('aaaaaaaa');
  });

  it('refuses a name given twice', () => {
    expect(problemsOf({ ...DEV, SERVICE_CLIENTS: `orders:${hash},orders:${'b'.repeat(64)}` })).toEqual(['SERVICE_CLIENTS names "orders" twice']);
  });
});
