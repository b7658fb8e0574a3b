/** One ended session, as the feed gives it to services that verify access tokens offline. */
export interface RevocationFeedEntry {
  readonly sessionId: string;
  readonly userId: string;
  readonly revokedAt: Date;
  /** The revocation receipt's bound: no access token of the session is valid by its own `exp` after it; keep the deny entry until then. */
  readonly accessTokensValidUntil: Date;
}

export interface RevocationFeedPage {
  readonly revocations: readonly RevocationFeedEntry[];
  /** Where the next poll starts: the last entry's position, or the `after` given when there was none. */
  readonly nextCursor: string;
}

/** The feed as a revocation fills it (`tx.feed`), in the revocation's own transaction. */
export interface RevocationFeedWrites {
  append(userId: string, sessionIds: readonly string[], revokedAt: Date, accessTokensValidUntil: Date): Promise<void>;
}

/**
 * The revocation feed: every committed revocation, in an order in which no entry can appear
 * behind a cursor already handed out (see TypeOrmRevocationFeed). `after` is a cursor of an
 * earlier page (absent: from the oldest entry kept).
 */
export interface RevocationFeed {
  read(after: string | undefined, limit: number): Promise<RevocationFeedPage>;
  /** Deletes up to `limit` entries whose accessTokensValidUntil is before `cutoff`; returns how many. */
  deleteExpired(cutoff: Date, limit: number): Promise<number>;
}
export const REVOCATION_FEED = Symbol('RevocationFeed');

/** The cursor before every entry. */
export const FEED_START = '0-0';

/** `<xid8>-<id>`: a position in the feed; anything else is not a cursor this service gave out. */
const CURSOR = /^(\d{1,20})-(\d{1,19})$/;

/** The cursor's two parts as decimal strings, or null when `cursor` is not one. */
export function parseFeedCursor(cursor: string): { readonly xid: string; readonly id: string } | null {
  const match = CURSOR.exec(cursor);
  if (!match) return null;
  // xid8 and bigint: both must fit in 64 bits (unsigned and signed).
  if (BigInt(match[1]) > 18_446_744_073_709_551_615n || BigInt(match[2]) > 9_223_372_036_854_775_807n) return null;
  return { xid: match[1], id: match[2] };
}
