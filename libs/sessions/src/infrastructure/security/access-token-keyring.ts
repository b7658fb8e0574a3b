import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import {
  ACCESS_TOKEN_ALGORITHMS,
  AccessTokenAlgorithm,
  AccessTokenJwk,
  AccessTokenKeysOptions,
  Jwks,
  PreviousAccessTokenKey,
} from '../../application/ports/access-token.port';
import { SessionsConfigurationError } from '../../domain/sessions-error';

/** The key type each algorithm needs, as node:crypto names it. */
const KEY_TYPES: Record<AccessTokenAlgorithm, { type: string; curve?: string; label: string }> = {
  EdDSA: { type: 'ed25519', label: 'an Ed25519 key' },
  ES256: { type: 'ec', curve: 'prime256v1', label: 'a P-256 EC key' },
};

/**
 * The parsed asymmetric keys: the private key that signs, and the public keys that verify
 * (the current one first, then the previous ones), as the JWKS publishes them. Checked once, at
 * start-up: a key of the wrong type or a repeated key id stops the module with a message that
 * names the option, never the key.
 */
export class AccessTokenKeyring {
  private constructor(
    readonly algorithm: AccessTokenAlgorithm,
    readonly keyId: string,
    readonly signingKey: KeyObject,
    readonly jwks: Jwks,
  ) {}

  static fromOptions(options: AccessTokenKeysOptions): AccessTokenKeyring {
    const algorithm = checkedAlgorithm(options.algorithm, 'accessTokenKeys.algorithm');
    const keyId = checkedKeyId(options.keyId, 'accessTokenKeys.keyId');
    const signingKey = privateKeyOf(options.privateKey);
    checkKeyType(signingKey, algorithm, 'accessTokenKeys.privateKey');
    const keys = [jwkOf(createPublicKey(signingKey), algorithm, keyId)];
    (options.previousPublicKeys ?? []).forEach((previous, index) => keys.push(previousJwk(previous, `accessTokenKeys.previousPublicKeys[${index}]`)));
    const ids = keys.map((key) => key.kid);
    const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
    if (repeated !== undefined) throw new SessionsConfigurationError(`accessTokenKeys: the key id "${repeated}" is used by more than one key`);
    return new AccessTokenKeyring(algorithm, keyId, signingKey, deepFreeze({ keys }));
  }

  /** The algorithms a token may say it uses: those of the keys that verify. */
  algorithms(): AccessTokenAlgorithm[] {
    return [...new Set(this.jwks.keys.map((key) => key.alg))];
  }
}

function checkedAlgorithm(algorithm: unknown, option: string): AccessTokenAlgorithm {
  if (!ACCESS_TOKEN_ALGORITHMS.includes(algorithm as AccessTokenAlgorithm)) {
    throw new SessionsConfigurationError(`${option} must be one of ${ACCESS_TOKEN_ALGORITHMS.join(', ')}`);
  }
  return algorithm as AccessTokenAlgorithm;
}

/** A kid goes into every token header and the JWKS: printable ASCII, short. */
function checkedKeyId(keyId: unknown, option: string): string {
  if (typeof keyId !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(keyId)) {
    throw new SessionsConfigurationError(`${option} must be 1 to 128 printable ASCII characters without spaces`);
  }
  return keyId;
}

function privateKeyOf(key: KeyObject | string): KeyObject {
  if (key instanceof KeyObject) {
    if (key.type !== 'private') throw new SessionsConfigurationError('accessTokenKeys.privateKey must be a private key');
    return key;
  }
  try {
    return createPrivateKey({ key, format: 'pem' });
  } catch {
    throw new SessionsConfigurationError('accessTokenKeys.privateKey is not a PEM private key (PKCS#8, "-----BEGIN PRIVATE KEY-----")');
  }
}

function publicKeyOf(key: KeyObject | string, option: string): KeyObject {
  if (key instanceof KeyObject) {
    if (key.type === 'secret') throw new SessionsConfigurationError(`${option}.publicKey must be a public key`);
    return key.type === 'private' ? createPublicKey(key) : key;
  }
  try {
    return createPublicKey({ key, format: 'pem' });
  } catch {
    throw new SessionsConfigurationError(`${option}.publicKey is not a PEM public key (SPKI, "-----BEGIN PUBLIC KEY-----")`);
  }
}

function checkKeyType(key: KeyObject, algorithm: AccessTokenAlgorithm, option: string): void {
  const expected = KEY_TYPES[algorithm];
  if (key.asymmetricKeyType !== expected.type || (expected.curve && key.asymmetricKeyDetails?.namedCurve !== expected.curve)) {
    throw new SessionsConfigurationError(`${option} must be ${expected.label} for ${algorithm}`);
  }
}

function previousJwk(previous: PreviousAccessTokenKey, option: string): AccessTokenJwk {
  const algorithm = checkedAlgorithm(previous.algorithm, `${option}.algorithm`);
  const keyId = checkedKeyId(previous.keyId, `${option}.keyId`);
  const publicKey = publicKeyOf(previous.publicKey, option);
  checkKeyType(publicKey, algorithm, `${option}.publicKey`);
  return jwkOf(publicKey, algorithm, keyId);
}

/** Only the public members: node:crypto's export of a public key has no `d`. */
function jwkOf(publicKey: KeyObject, algorithm: AccessTokenAlgorithm, keyId: string): AccessTokenJwk {
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' }) as { kty: 'OKP' | 'EC'; crv: 'Ed25519' | 'P-256'; x: string; y?: string };
  return { kty, crv, x, ...(y === undefined ? {} : { y }), kid: keyId, alg: algorithm, use: 'sig' };
}

function deepFreeze<T extends Jwks>(jwks: T): T {
  jwks.keys.forEach((key) => Object.freeze(key));
  Object.freeze(jwks.keys);
  return Object.freeze(jwks);
}
