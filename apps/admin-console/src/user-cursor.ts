import { type UserPosition } from '@app/sessions';

/** Longer than any cursor this codec makes (an email is at most 254 code points, 4 bytes each). */
export const USER_CURSOR_MAX_LENGTH = 1_500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The user list's nextCursor: the (email, id) the page ended on, as base64url JSON. Opaque to
 * clients (they hand it back as it came); not a secret, since it holds nothing the page did not show.
 */
export function encodeUserCursor(position: UserPosition): string {
  return Buffer.from(JSON.stringify([position.email, position.id]), 'utf8').toString('base64url');
}

/** The position a cursor names, or null for anything encodeUserCursor did not make. */
export function decodeUserCursor(cursor: unknown): UserPosition | null {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > USER_CURSOR_MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return null;
  const [email, id] = parsed as unknown[];
  if (typeof email !== 'string' || email.length === 0 || email.includes('\u0000') || typeof id !== 'string' || !UUID.test(id)) return null;
  // Only what this codec writes: a re-encoding gives the same text (no padding, no stray bits).
  const position = { email, id };
  return encodeUserCursor(position) === cursor ? position : null;
}
