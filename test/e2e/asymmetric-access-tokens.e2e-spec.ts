import { createHmac, generateKeyPairSync } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, SignJWT } from 'jose';
import { bearer, meStatus, signUp } from '../support/api';
import { startTestStack, type TestStack } from '../support/test-app';

const KEY_ID = 'web-2026-12';

describe('asymmetric access tokens (EdDSA) and the JWKS the web API serves', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  let stack: TestStack;
  let jwksUrl: URL;

  beforeAll(async () => {
    stack = await startTestStack({
      label: 'asymmetric-tokens',
      sessions: { accessTokenKeys: { algorithm: 'EdDSA', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), keyId: KEY_ID } },
    });
    // A verifier fetches the JWKS over the network, as another service would.
    await stack.web.listen(0, '127.0.0.1');
    jwksUrl = new URL('/.well-known/jwks.json', await stack.web.getUrl());
  });

  afterAll(async () => {
    await stack?.close();
  });

  /** Offline verification: what a service holding only the JWKS URL does. */
  const verifyOffline = (token: string, keySet = createRemoteJWKSet(jwksUrl)) => jwtVerify(token, keySet, { algorithms: ['EdDSA'], typ: 'JWT' });

  it('serves the public key as a JWKS, cacheable for five minutes', async () => {
    const response = await fetch(jwksUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await response.json();
    expect(body).toEqual({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: publicKey.export({ format: 'jwk' }).x, kid: KEY_ID, alg: 'EdDSA', use: 'sig' }] });
    expect(JSON.stringify(body)).not.toContain('"d"');
  });

  it('issues tokens through the real login that a service verifies offline against the served JWKS', async () => {
    const [user] = await signUp(stack);
    const { payload, protectedHeader } = await verifyOffline(user.accessToken);
    expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: KEY_ID });
    expect(payload).toMatchObject({ sub: user.userId, sid: user.sessionId });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(900);
    expect(await meStatus(stack, user.accessToken)).toBe(200);
  });

  it('refuses a token signed by another key under the same kid, at the service and offline', async () => {
    const [user] = await signUp(stack);
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ sub: user.userId, sid: user.sessionId })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: KEY_ID })
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(generateKeyPairSync('ed25519').privateKey);
    const response = await stack
      .http()
      .get('/auth/me')
      .set(...bearer(forged));
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(
      'Bearer realm="sessions", error="invalid_token", error_description="The access token is invalid or expired, or its session has ended"',
    );
    await expect(verifyOffline(forged)).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
  });

  it('refuses HS256 tokens, even signed with the configured secret or with the public key as HMAC secret', async () => {
    const [user] = await signUp(stack);
    const now = Math.floor(Date.now() / 1000);
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
    const body = `${encode({ alg: 'HS256', typ: 'JWT', kid: KEY_ID })}.${encode({ sub: user.userId, sid: user.sessionId, iat: now, exp: now + 600 })}`;
    const secrets = [
      stack.runtime.settings.sessions.accessTokenSecret,
      publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      publicKey.export({ format: 'jwk' }).x!,
    ];
    for (const secret of secrets) {
      expect(await meStatus(stack, `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`)).toBe(401);
    }
  });

  it('still refuses a token with a valid signature once its session is revoked (offline verification cannot see that)', async () => {
    const [user] = await signUp(stack);
    expect(await meStatus(stack, user.accessToken)).toBe(200);
    await stack
      .http()
      .post('/auth/sessions/revoke-all')
      .set(...bearer(user.accessToken))
      .send({ keepCurrent: false })
      .expect(200);
    expect(await meStatus(stack, user.accessToken)).toBe(401);
    await expect(verifyOffline(user.accessToken)).resolves.toMatchObject({ payload: { sid: user.sessionId } });
  });
});

describe('the JWKS with the default HS256 signer', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'hs256-jwks' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('is empty: a shared secret is never published', async () => {
    const response = await stack.http().get('/.well-known/jwks.json').expect(200);
    expect(response.body).toEqual({ keys: [] });
    expect(response.headers['cache-control']).toBe('public, max-age=300');
    const [user] = await signUp(stack);
    expect(JSON.parse(Buffer.from(user.accessToken.split('.')[0], 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
  });
});
