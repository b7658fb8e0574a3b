import type { KeyObject } from 'node:crypto';

/** The claims this service puts in an access token. */
export interface AccessTokenClaims {
  readonly userId: string;
  readonly sessionId: string;
}

export interface IssuedAccessToken {
  readonly token: string;
  readonly expiresIn: number;
}

/** A token's claims, or why it is refused: expired (correctly signed, past its `exp`), or anything else. */
export type AccessTokenVerdict =
  { readonly kind: 'valid'; readonly claims: AccessTokenClaims } | { readonly kind: 'refused'; readonly reason: 'token_invalid' | 'token_expired' };

/** Signs and verifies access tokens; verify returns null for anything not valid, check says why; neither throws. */
export interface AccessTokens {
  issue(claims: AccessTokenClaims): Promise<IssuedAccessToken>;
  verify(token: string): Promise<AccessTokenClaims | null>;
  check(token: string): Promise<AccessTokenVerdict>;
}
export const ACCESS_TOKENS = Symbol('AccessTokens');

/** The asymmetric algorithms access tokens can be signed with: Ed25519 (EdDSA) or P-256 (ES256). */
export type AccessTokenAlgorithm = 'EdDSA' | 'ES256';
export const ACCESS_TOKEN_ALGORITHMS: readonly AccessTokenAlgorithm[] = ['EdDSA', 'ES256'];

/** A public key that verifies tokens signed before the current key took over. */
export interface PreviousAccessTokenKey {
  readonly algorithm: AccessTokenAlgorithm;
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`) or a public (or private) KeyObject. */
  readonly publicKey: KeyObject | string;
  readonly keyId: string;
}

/**
 * Asymmetric access tokens, for services that verify them offline against the JWKS. Tokens are
 * signed with `privateKey` and carry `keyId` as `kid`; they verify with it and with each of
 * `previousPublicKeys` (key rotation: add the old key here when a new one takes over, remove it
 * once the access-token lifetime has passed).
 */
export interface AccessTokenKeysOptions {
  readonly algorithm: AccessTokenAlgorithm;
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) or a private KeyObject: Ed25519 for EdDSA, P-256 for ES256. */
  readonly privateKey: KeyObject | string;
  readonly keyId: string;
  readonly previousPublicKeys?: readonly PreviousAccessTokenKey[];
}

/** A public verification key as RFC 7517 writes it. */
export interface AccessTokenJwk {
  readonly kty: 'OKP' | 'EC';
  readonly crv: 'Ed25519' | 'P-256';
  readonly x: string;
  /** EC keys only. */
  readonly y?: string;
  readonly kid: string;
  readonly alg: AccessTokenAlgorithm;
  readonly use: 'sig';
}

/** A JSON Web Key Set (RFC 7517 §5): what `/.well-known/jwks.json` serves. */
export interface Jwks {
  readonly keys: readonly AccessTokenJwk[];
}
