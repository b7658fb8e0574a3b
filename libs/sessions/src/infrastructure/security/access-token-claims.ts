import { AccessTokenClaims, AccessTokenVerdict } from '../../application/ports/access-token.port';

/**
 * Lower-case only: ids are written to cache keys exactly as the token carries them, while
 * PostgreSQL compares uuids regardless of case. An upper-case sid found its session active in the
 * database, cached "active" under its own key, and outlived the revocation marked under the
 * canonical one (issue 8 #17). Every id this service issues is lower-case.
 */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Clock difference tolerated between the instance that signed a token and the one checking it. */
export const ACCESS_TOKEN_CLOCK_SKEW_SECONDS = 30;
/** The `typ` header of every access token this service issues. */
export const ACCESS_TOKEN_TYPE = 'JWT';

export interface AccessTokenPayload {
  readonly sub: string;
  readonly sid: string;
  readonly iat?: number;
  readonly exp?: number;
}

/**
 * The checks every access token passes after its signature, whatever signed it: it must look like
 * one this service issues. It expires and says when it was issued, `iat` is not in the future and
 * the lifetime (`exp - iat`) is no longer than the configured one, so even a token signed with a
 * leaked key cannot claim ten years; and its ids are canonical. null when it does not.
 */
export function acceptedClaims(payload: Partial<AccessTokenPayload>, nowSeconds: number, ttlSeconds: number): AccessTokenClaims | null {
  if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number') return null;
  if (payload.exp <= nowSeconds) return null;
  if (payload.iat > nowSeconds + ACCESS_TOKEN_CLOCK_SKEW_SECONDS) return null;
  if (payload.exp - payload.iat > ttlSeconds + ACCESS_TOKEN_CLOCK_SKEW_SECONDS) return null;
  if (typeof payload.sub !== 'string' || !CANONICAL_UUID.test(payload.sub)) return null;
  if (typeof payload.sid !== 'string' || !CANONICAL_UUID.test(payload.sid)) return null;
  return { userId: payload.sub, sessionId: payload.sid };
}

/**
 * The verdict on a token whose signature and header verified: `payload`'s claims, or expired when
 * `exp` has passed (and the rest of acceptedClaims' checks are then not what refused it).
 */
export function verdictOf(payload: Partial<AccessTokenPayload>, nowSeconds: number, ttlSeconds: number): AccessTokenVerdict {
  const claims = acceptedClaims(payload, nowSeconds, ttlSeconds);
  if (claims) return { kind: 'valid', claims };
  return typeof payload.exp === 'number' && payload.exp <= nowSeconds ? EXPIRED : INVALID;
}

export const INVALID: AccessTokenVerdict = { kind: 'refused', reason: 'token_invalid' };
export const EXPIRED: AccessTokenVerdict = { kind: 'refused', reason: 'token_expired' };

export function claimsOf(verdict: AccessTokenVerdict): AccessTokenClaims | null {
  return verdict.kind === 'valid' ? verdict.claims : null;
}
