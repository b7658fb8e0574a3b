/** The claims this service puts in an access token. */
export interface AccessTokenClaims {
  readonly userId: string;
  readonly sessionId: string;
}

export interface IssuedAccessToken {
  readonly token: string;
  readonly expiresIn: number;
}

/** Signs and verifies access tokens; verify returns null for anything not valid, never throws. */
export interface AccessTokens {
  issue(claims: AccessTokenClaims): Promise<IssuedAccessToken>;
  verify(token: string): Promise<AccessTokenClaims | null>;
}
export const ACCESS_TOKENS = Symbol('AccessTokens');
