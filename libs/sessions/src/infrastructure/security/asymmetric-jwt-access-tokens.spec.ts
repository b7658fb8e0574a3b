import { createHmac, generateKeyPairSync, KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { AccessTokenKeysOptions } from '../../application/ports/access-token.port';
import { SessionsConfigurationError } from '../../domain/sessions-error';
import { ACCESS_TOKEN_CLOCK_SKEW_SECONDS } from './access-token-claims';
import { AccessTokenKeyring } from './access-token-keyring';
import { AsymmetricJwtAccessTokens } from './asymmetric-jwt-access-tokens';
import { JwtAccessTokens } from './jwt-access-tokens';

const USER = '0190a5d2-0000-7000-8000-0000000000a1';
const SESSION = '0190a5d2-0000-7000-8000-0000000000c1';
const TTL = 900;
const CLAIMS = { userId: USER, sessionId: SESSION };

const ed25519 = () => generateKeyPairSync('ed25519');
const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (key: KeyObject) => key.export({ type: key.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }).toString();

describe('AsymmetricJwtAccessTokens', () => {
  // The real time, as in the HS256 spec: jose compares exp with the date it is given.
  const nowMs = Math.floor(Date.now() / 1000) * 1000;
  const now = nowMs / 1000;
  const clock = { now: () => new Date(nowMs) };
  const current = ed25519();
  const options: AccessTokenKeysOptions = { algorithm: 'EdDSA', privateKey: pem(current.privateKey), keyId: 'k2' };
  const keyring = AccessTokenKeyring.fromOptions(options);
  const tokens = new AsymmetricJwtAccessTokens(keyring, TTL, clock);

  /** A token signed with `key` as this service would, but with any header and payload. */
  function forge(payload: Record<string, unknown>, header: Record<string, unknown> = {}, key: KeyObject = current.privateKey) {
    return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: 'k2', ...header }).sign(key);
  }

  it.each([
    ['EdDSA', ed25519],
    ['ES256', p256],
  ] as const)('round-trips the user and session with %s, and says its kid and typ', async (algorithm, generate) => {
    const pair = generate();
    const own = new AsymmetricJwtAccessTokens(AccessTokenKeyring.fromOptions({ algorithm, privateKey: pair.privateKey, keyId: 'one' }), TTL, clock);
    const { token, expiresIn } = await own.issue(CLAIMS);
    expect(expiresIn).toBe(TTL);
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString())).toEqual({ alg: algorithm, typ: 'JWT', kid: 'one' });
    expect(JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())).toEqual({ sub: USER, sid: SESSION, iat: now, exp: now + TTL });
    expect(await own.verify(token)).toEqual(CLAIMS);
  });

  it('publishes the public keys only, current first, with kid, alg and use', () => {
    const previous = p256();
    const ring = AccessTokenKeyring.fromOptions({ ...options, previousPublicKeys: [{ algorithm: 'ES256', publicKey: pem(previous.publicKey), keyId: 'k1' }] });
    const currentJwk = current.publicKey.export({ format: 'jwk' });
    const previousJwk = previous.publicKey.export({ format: 'jwk' });
    expect(ring.jwks).toEqual({
      keys: [
        { kty: 'OKP', crv: 'Ed25519', x: currentJwk.x, kid: 'k2', alg: 'EdDSA', use: 'sig' },
        { kty: 'EC', crv: 'P-256', x: previousJwk.x, y: previousJwk.y, kid: 'k1', alg: 'ES256', use: 'sig' },
      ],
    });
    expect(JSON.stringify(ring.jwks)).not.toContain('"d"');
    expect(Object.isFrozen(ring.jwks.keys[0])).toBe(true);
  });

  it('verifies tokens of the previous key during a rotation, and refuses them once it is dropped', async () => {
    const old = new AsymmetricJwtAccessTokens(AccessTokenKeyring.fromOptions({ algorithm: 'ES256', privateKey: p256().privateKey, keyId: 'k1' }), TTL, clock);
    const oldPair = p256();
    const before = new AsymmetricJwtAccessTokens(
      AccessTokenKeyring.fromOptions({ algorithm: 'ES256', privateKey: oldPair.privateKey, keyId: 'k1' }),
      TTL,
      clock,
    );
    const rotated = new AsymmetricJwtAccessTokens(
      AccessTokenKeyring.fromOptions({ ...options, previousPublicKeys: [{ algorithm: 'ES256', publicKey: oldPair.publicKey, keyId: 'k1' }] }),
      TTL,
      clock,
    );
    const issuedBefore = (await before.issue(CLAIMS)).token;
    expect(await rotated.verify(issuedBefore)).toEqual(CLAIMS);
    expect(await rotated.verify((await rotated.issue(CLAIMS)).token)).toEqual(CLAIMS);
    expect(await tokens.verify(issuedBefore)).toBeNull();
    // Another key that claims the previous key's kid is not the previous key.
    expect(await rotated.verify((await old.issue(CLAIMS)).token)).toBeNull();
  });

  describe('refuses', () => {
    const payload = { sub: USER, sid: SESSION, iat: now, exp: now + 60 };
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');

    it('a token signed by another key under the same kid', async () => {
      expect(await tokens.verify(await forge(payload, {}, ed25519().privateKey))).toBeNull();
    });

    it('alg none', async () => {
      expect(await tokens.verify(`${encode({ alg: 'none', typ: 'JWT', kid: 'k2' })}.${encode(payload)}.`)).toBeNull();
    });

    it('HS256 signed with the public key as the HMAC secret (algorithm confusion), in every form a verifier might use', async () => {
      const jwk = keyring.jwks.keys[0];
      for (const secret of [pem(current.publicKey), jwk.x, Buffer.from(jwk.x, 'base64url')]) {
        const body = `${encode({ alg: 'HS256', typ: 'JWT', kid: 'k2' })}.${encode(payload)}`;
        expect(await tokens.verify(`${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`)).toBeNull();
      }
    });

    it('an HS256 token of the default signer, even with the very secret the HS256 signer would use', async () => {
      const secret = 'a-secret-that-is-long-enough-for-hs256-tokens';
      const hs256 = (await new JwtAccessTokens(secret, TTL, clock).issue(CLAIMS)).token;
      expect(await tokens.verify(hs256)).toBeNull();
    });

    it('a token of another algorithm than its key (ES256 header, Ed25519 key)', async () => {
      const es = p256();
      const ring = AccessTokenKeyring.fromOptions({ ...options, previousPublicKeys: [{ algorithm: 'ES256', publicKey: es.publicKey, keyId: 'k1' }] });
      const both = new AsymmetricJwtAccessTokens(ring, TTL, clock);
      // kid k2 is the Ed25519 key: an ES256 signature under it never verifies.
      const mislabelled = await new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'k2' }).sign(es.privateKey);
      expect(await both.verify(mislabelled)).toBeNull();
    });

    it.each([
      ['without kid', { kid: undefined }],
      ['with an unknown kid', { kid: 'k9' }],
      ['with another typ', { typ: 'at+jwt' }],
      ['without typ', { typ: undefined }],
    ])('a token %s', async (_name, header) => {
      expect(await tokens.verify(await forge(payload, header))).toBeNull();
    });

    it.each([
      ['without exp', { sub: USER, sid: SESSION, iat: now }],
      ['without iat', { sub: USER, sid: SESSION, exp: now + 60 }],
      ['expired', { sub: USER, sid: SESSION, iat: now - 1000, exp: now - 10 }],
      ['whose lifetime exceeds the configured one plus the skew', { sub: USER, sid: SESSION, iat: now, exp: now + TTL + ACCESS_TOKEN_CLOCK_SKEW_SECONDS + 1 }],
      ['issued in the future beyond the skew', { sub: USER, sid: SESSION, iat: now + ACCESS_TOKEN_CLOCK_SKEW_SECONDS + 1, exp: now + 120 }],
      ['with a sid that is not canonical', { sub: USER, sid: SESSION.toUpperCase(), iat: now, exp: now + 60 }],
      ['with a sub that is not a UUID', { sub: 'admin', sid: SESSION, iat: now, exp: now + 60 }],
    ])('a well-signed token %s', async (_name, claims) => {
      expect(await tokens.verify(await forge(claims))).toBeNull();
    });

    it('nothing well-formed: garbage, and never throws', async () => {
      for (const token of ['', 'a.b.c', 'x'.repeat(5000), `${encode({ alg: 'EdDSA', kid: 'k2' })}.!!.sig`]) {
        expect(await tokens.verify(token)).toBeNull();
      }
    });

    it('but accepts a well-signed token at the limits: lifetime TTL + skew, iat within the skew', async () => {
      expect(await tokens.verify(await forge({ sub: USER, sid: SESSION, iat: now, exp: now + TTL + ACCESS_TOKEN_CLOCK_SKEW_SECONDS }))).toEqual(CLAIMS);
      const ahead = now + ACCESS_TOKEN_CLOCK_SKEW_SECONDS;
      expect(await tokens.verify(await forge({ sub: USER, sid: SESSION, iat: ahead, exp: ahead + TTL }))).toEqual(CLAIMS);
    });
  });

  describe('keys checked at start-up', () => {
    it.each<[string, () => AccessTokenKeysOptions]>([
      ['an ES256 algorithm with an Ed25519 key', () => ({ ...options, algorithm: 'ES256' })],
      ['an EdDSA algorithm with a P-256 key', () => ({ ...options, privateKey: p256().privateKey })],
      ['a P-384 key for ES256', () => ({ algorithm: 'ES256', privateKey: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, keyId: 'k' })],
      ['an RSA key', () => ({ ...options, privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey })],
      ['a public key as the private key', () => ({ ...options, privateKey: current.publicKey })],
      ['a public key PEM as the private key', () => ({ ...options, privateKey: pem(current.publicKey) })],
      ['a string that is no PEM', () => ({ ...options, privateKey: 'not a key' })],
      ['an algorithm it does not offer', () => ({ ...options, algorithm: 'HS256' as never })],
      ['an empty kid', () => ({ ...options, keyId: '' })],
      ['a kid with a space', () => ({ ...options, keyId: 'key one' })],
      ['a kid used twice', () => ({ ...options, previousPublicKeys: [{ algorithm: 'EdDSA', publicKey: ed25519().publicKey, keyId: 'k2' }] })],
      ['a previous key of the wrong type', () => ({ ...options, previousPublicKeys: [{ algorithm: 'EdDSA', publicKey: p256().publicKey, keyId: 'k1' }] })],
      ['a previous key that is no PEM', () => ({ ...options, previousPublicKeys: [{ algorithm: 'EdDSA', publicKey: 'nope', keyId: 'k1' }] })],
    ])('refuses %s', (_name, make) => {
      expect(() => AccessTokenKeyring.fromOptions(make())).toThrow(SessionsConfigurationError);
    });

    it('never quotes the key in its message', () => {
      const privateKey = pem(p256().privateKey);
      try {
        AccessTokenKeyring.fromOptions({ ...options, privateKey });
        throw new Error('accepted');
      } catch (error) {
        expect(error).toBeInstanceOf(SessionsConfigurationError);
        expect((error as Error).message).toMatch(/accessTokenKeys\.privateKey must be an Ed25519 key for EdDSA/);
        expect((error as Error).message).not.toContain(privateKey.split('\n')[1]);
      }
    });

    it('accepts a private KeyObject and a PEM alike, and a private key given as a previous one (only its public half is kept)', () => {
      const previous = ed25519();
      const ring = AccessTokenKeyring.fromOptions({
        ...options,
        privateKey: current.privateKey,
        previousPublicKeys: [{ algorithm: 'EdDSA', publicKey: previous.privateKey, keyId: 'k1' }],
      });
      expect(ring.jwks.keys.map((key) => key.kid)).toEqual(['k2', 'k1']);
      expect(JSON.stringify(ring.jwks)).not.toContain('"d"');
    });
  });
});
