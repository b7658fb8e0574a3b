import type { AccessTokenAlgorithm, AccessTokenKeysOptions, PreviousAccessTokenKey } from '@app/sessions';
import { createPrivateKey, createPublicKey, hkdfSync, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** ACCESS_TOKEN_ALGORITHM: HS256 signs with ACCESS_TOKEN_SECRET; EdDSA and ES256 with ACCESS_TOKEN_PRIVATE_KEY, published at /.well-known/jwks.json. */
export const ACCESS_TOKEN_SIGNING_ALGORITHMS = ['HS256', 'EdDSA', 'ES256'] as const;
export type AccessTokenSigningAlgorithm = (typeof ACCESS_TOKEN_SIGNING_ALGORITHMS)[number];

/** The variables this file reads, as the environment schema holds them after defaults. */
export interface AccessTokenKeyVariables {
  readonly ACCESS_TOKEN_ALGORITHM: AccessTokenSigningAlgorithm;
  readonly ACCESS_TOKEN_SECRET: string | undefined;
  readonly ACCESS_TOKEN_PRIVATE_KEY: string | undefined;
  readonly ACCESS_TOKEN_PRIVATE_KEY_FILE: string | undefined;
  readonly ACCESS_TOKEN_KEY_ID: string | undefined;
  readonly ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS: string | undefined;
}

const KEY_TYPES: Record<AccessTokenAlgorithm, { type: string; curve?: string; label: string }> = {
  EdDSA: { type: 'ed25519', label: 'an Ed25519 key' },
  ES256: { type: 'ec', curve: 'prime256v1', label: 'a P-256 EC key' },
};

/** The library's own rule for a kid (it goes into every token header and the JWKS). */
const KEY_ID = /^[\x21-\x7e]{1,128}$/;

const ASYMMETRIC_ONLY = ['ACCESS_TOKEN_PRIVATE_KEY', 'ACCESS_TOKEN_PRIVATE_KEY_FILE', 'ACCESS_TOKEN_KEY_ID', 'ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS'] as const;

/** The keys and their problems, worked out once: problems name variables, never a key's bytes. */
export interface AccessTokenKeysResult {
  readonly problems: readonly string[];
  readonly keys: AccessTokenKeysOptions | undefined;
}

/**
 * Checks the signing variables together: each algorithm takes its own variables and refuses the
 * other's (an HS256 secret left set beside an EdDSA key would suggest it still signs), and a key
 * must be of the algorithm's type. The private key is parsed here so that a bad one stops
 * start-up with the variable's name, not deep in the module.
 */
export function accessTokenKeys(variables: AccessTokenKeyVariables): AccessTokenKeysResult {
  const algorithm = variables.ACCESS_TOKEN_ALGORITHM;
  if (algorithm === 'HS256') {
    const stray = ASYMMETRIC_ONLY.filter((name) => variables[name] !== undefined);
    const problems = stray.map(
      (name) =>
        `${name} is set but ACCESS_TOKEN_ALGORITHM is HS256 (signed with ACCESS_TOKEN_SECRET): set ACCESS_TOKEN_ALGORITHM=EdDSA or ES256, or remove ${name}`,
    );
    return { problems, keys: undefined };
  }
  if (!(algorithm in KEY_TYPES)) return { problems: [], keys: undefined }; // the schema already names a bad algorithm
  const problems: string[] = [];
  if (variables.ACCESS_TOKEN_SECRET !== undefined) {
    problems.push(
      `ACCESS_TOKEN_SECRET is an HS256 secret, but ACCESS_TOKEN_ALGORITHM is ${algorithm} (signed with ACCESS_TOKEN_PRIVATE_KEY): remove ACCESS_TOKEN_SECRET`,
    );
  }
  const privateKey = privateKeyOf(variables, algorithm, problems);
  const keyId = variables.ACCESS_TOKEN_KEY_ID;
  if (keyId === undefined)
    problems.push(`ACCESS_TOKEN_KEY_ID is required with ACCESS_TOKEN_ALGORITHM=${algorithm} (the kid of every token and of the key in the JWKS)`);
  else if (!KEY_ID.test(keyId)) problems.push('ACCESS_TOKEN_KEY_ID must be 1 to 128 printable ASCII characters without spaces');
  const previousPublicKeys = previousKeysOf(variables.ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS, problems);
  const ids = [keyId, ...previousPublicKeys.map((key) => key.keyId)].filter((id) => id !== undefined);
  const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
  if (repeated !== undefined)
    problems.push(`ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS: the key id "${repeated}" is used by more than one key (a new key needs a new ACCESS_TOKEN_KEY_ID)`);
  if (problems.length > 0 || privateKey === undefined || keyId === undefined) return { problems, keys: undefined };
  return { problems, keys: { algorithm, privateKey, keyId, previousPublicKeys } };
}

/**
 * The admin console's CSRF tokens need a secret every instance shares; with asymmetric signing
 * there is no ACCESS_TOKEN_SECRET, so one is derived from the private key (which every instance
 * has), labelled so that it is no other key. A key rotation changes it: open console pages get a
 * new CSRF token on their next load.
 */
export function sharedSecretFrom(privateKey: KeyObject): string {
  const material = privateKey.export({ format: 'der', type: 'pkcs8' });
  return Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), 'sessions console csrf', 32)).toString('base64url');
}

function privateKeyOf(variables: AccessTokenKeyVariables, algorithm: AccessTokenAlgorithm, problems: string[]): KeyObject | undefined {
  const inline = variables.ACCESS_TOKEN_PRIVATE_KEY;
  const file = variables.ACCESS_TOKEN_PRIVATE_KEY_FILE;
  if (inline !== undefined && file !== undefined) {
    problems.push('ACCESS_TOKEN_PRIVATE_KEY and ACCESS_TOKEN_PRIVATE_KEY_FILE are mutually exclusive: set one');
    return undefined;
  }
  if (inline === undefined && file === undefined) {
    problems.push(`ACCESS_TOKEN_PRIVATE_KEY or ACCESS_TOKEN_PRIVATE_KEY_FILE is required with ACCESS_TOKEN_ALGORITHM=${algorithm}`);
    return undefined;
  }
  const name = inline !== undefined ? 'ACCESS_TOKEN_PRIVATE_KEY' : 'ACCESS_TOKEN_PRIVATE_KEY_FILE';
  let pem: string;
  if (inline !== undefined) {
    // One-line values (.env files, most secret stores) carry the PEM's newlines as \n.
    pem = inline.replace(/\\n/g, '\n');
  } else {
    try {
      pem = readFileSync(file as string, 'utf8');
    } catch (error) {
      problems.push(`ACCESS_TOKEN_PRIVATE_KEY_FILE cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    problems.push(`${name} is not a PEM private key (PKCS#8, "-----BEGIN PRIVATE KEY-----")`);
    return undefined;
  }
  const typeProblem = keyTypeProblem(key, algorithm);
  if (typeProblem !== undefined) {
    problems.push(`${name} must be ${typeProblem}`);
    return undefined;
  }
  return key;
}

function keyTypeProblem(key: KeyObject, algorithm: AccessTokenAlgorithm): string | undefined {
  const expected = KEY_TYPES[algorithm];
  if (key.asymmetricKeyType === expected.type && (!expected.curve || key.asymmetricKeyDetails?.namedCurve === expected.curve)) return undefined;
  const actual = key.asymmetricKeyDetails?.namedCurve ? `${key.asymmetricKeyType} ${key.asymmetricKeyDetails.namedCurve}` : key.asymmetricKeyType;
  return `${expected.label} for ${algorithm} (got ${actual ?? 'another'} key)`;
}

/**
 * ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS: JSON, the keys that still verify during a rotation's
 * overlap. A JWK Set ({"keys": [...]}, e.g. the JWKS as it was served before the rotation) or an
 * array; each entry a public JWK with its kid and alg, or {"kid", "alg", "pem"} with an SPKI PEM.
 */
function previousKeysOf(value: string | undefined, problems: string[]): PreviousAccessTokenKey[] {
  if (value === undefined) return [];
  const name = 'ACCESS_TOKEN_PREVIOUS_PUBLIC_KEYS';
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    problems.push(`${name} must be JSON: a JWK Set {"keys": [...]} or an array of public JWKs (or of {"kid", "alg", "pem"})`);
    return [];
  }
  const entries = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(entries)) {
    problems.push(`${name} must be a JWK Set {"keys": [...]} or an array of keys`);
    return [];
  }
  const keys: PreviousAccessTokenKey[] = [];
  entries.forEach((entry: unknown, index) => {
    const where = `${name}[${index}]`;
    const { kid, alg, pem, d } = (entry ?? {}) as { kid?: unknown; alg?: unknown; pem?: unknown; d?: unknown };
    if (typeof kid !== 'string' || !KEY_ID.test(kid)) return problems.push(`${where} needs a "kid" of 1 to 128 printable ASCII characters`);
    if (alg !== 'EdDSA' && alg !== 'ES256') return problems.push(`${where} needs "alg": "EdDSA" or "ES256" (got ${JSON.stringify(alg) ?? 'none'})`);
    if (d !== undefined) return problems.push(`${where} is a private JWK ("d"): give the public key only`);
    let publicKey: KeyObject;
    try {
      publicKey =
        typeof pem === 'string' ? createPublicKey({ key: pem.replace(/\\n/g, '\n'), format: 'pem' }) : createPublicKey({ key: entry as never, format: 'jwk' });
    } catch {
      return problems.push(`${where} is not a public key (a JWK with kty, crv, x [, y], or "pem" with an SPKI PEM)`);
    }
    const typeProblem = keyTypeProblem(publicKey, alg);
    if (typeProblem !== undefined) return problems.push(`${where} must be ${typeProblem}`);
    keys.push({ algorithm: alg, publicKey, keyId: kid });
  });
  return keys;
}
