import { createHash, randomBytes } from 'node:crypto';

/**
 * A refresh token is 256 random bits, shown to the client once. Only its SHA-256 is stored,
 * under a unique index, so finding it is one indexed read whatever the number of tokens.
 * (A slow hash such as bcrypt is for low-entropy passwords; it would force a scan here.)
 */
export const REFRESH_TOKEN_BYTES = 32;
/** base64url of 32 bytes, without padding. */
export const REFRESH_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newRefreshToken(): { token: string; hash: Buffer } {
  const token = randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
