import { SESSIONS_DEFAULTS } from '@app/sessions';
import { sql } from './sql';
import type { TestStack } from './test-app';

const TTL_MS = SESSIONS_DEFAULTS.lifetimes.accessTokenTtlSeconds * 1_000;
/** How far past effectiveAt + TTL the bound may be: the revoking statement's own duration, and some. */
const STATEMENT_SLACK_MS = 5_000;

/** A receipt as JSON carries it (dates as ISO strings) or as a command answers it (Dates). */
export interface AnyReceipt {
  readonly revokedCount: number;
  readonly sessionIds: readonly string[];
  readonly effectiveAt: string | Date;
  readonly accessTokensValidUntil: string | Date;
}

/** The `exp` of an access token, in ms. */
export function expiryOf(accessToken: string): number {
  const payload = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString('utf8')) as { exp: number };
  return payload.exp * 1_000;
}

const time = (value: string | Date): number => (typeof value === 'string' ? Date.parse(value) : value.getTime());

/**
 * Checks a receipt against PostgreSQL: its sessionIds are exactly `ended` and exactly the user's
 * sessions whose revoked_at is effectiveAt (so no session ended by the command is missing, and none
 * ended before is named); accessTokensValidUntil is at or after the `exp` of every token given (all
 * access tokens of those sessions the test was issued) and no later than effectiveAt plus the
 * lifetime and the statement's slack. With nothing ended, it equals effectiveAt.
 */
export async function expectReceipt(
  stack: TestStack,
  receipt: AnyReceipt,
  expected: { userId: string; ended: readonly string[]; accessTokens: readonly string[] },
): Promise<void> {
  expect(Object.keys(receipt).filter((key) => ['revokedCount', 'sessionIds', 'effectiveAt', 'accessTokensValidUntil'].includes(key))).toHaveLength(4);
  expect([...receipt.sessionIds].sort()).toEqual([...expected.ended].sort());
  expect(receipt.revokedCount).toBe(expected.ended.length);
  const effectiveAt = time(receipt.effectiveAt);
  const until = time(receipt.accessTokensValidUntil);
  const rows = await sql<{ id: string }>(stack.databaseUrl, 'SELECT id FROM sessions WHERE user_id = $1 AND revoked_at = $2 ORDER BY id', [
    expected.userId,
    new Date(effectiveAt),
  ]);
  expect(rows.map((row) => row.id)).toEqual([...expected.ended].sort());
  if (expected.ended.length === 0) {
    expect(until).toBe(effectiveAt);
    return;
  }
  for (const token of expected.accessTokens) expect(until).toBeGreaterThanOrEqual(expiryOf(token));
  expect(until).toBeGreaterThanOrEqual(effectiveAt + TTL_MS);
  expect(until).toBeLessThanOrEqual(effectiveAt + TTL_MS + STATEMENT_SLACK_MS);
}
