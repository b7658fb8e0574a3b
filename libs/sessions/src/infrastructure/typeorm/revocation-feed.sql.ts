import { schemaSql } from './schema-name';

/**
 * One row per ended session, stamped with the writing transaction's id ($1 user, $2 session ids,
 * $3 revoked_at, $4 accessTokensValidUntil). The xid is the transaction's, not a sequence value:
 * what orders the feed is which transactions have ended, not when a row was written.
 */
export const appendRevocationFeedSql = schemaSql(
  (s) => `INSERT INTO ${s}.revocation_feed (xid, user_id, session_id, revoked_at, access_tokens_valid_until)
       SELECT pg_current_xact_id(), $1, session_id, $3, $4 FROM unnest($2::uuid[]) AS session_id`,
);

/**
 * Up to $3 entries after the cursor ($1 xid, $2 id), only of transactions below the snapshot's
 * xmin: every transaction with a smaller id has ended, so each row read is committed, and every row
 * committed later has a larger xid than any read now (its transaction was running, at or above
 * xmin, or had not begun). A cursor at the last row read therefore never passes a row that commits
 * afterwards. A revoked_at or sequence cursor would: both are taken before the commit, and a
 * transaction that commits late lands behind a cursor that moved past it. One range of the
 * primary key; with nothing new, one probe. The
 * ORDER BY names the table's columns: the bare names would sort the text aliases ("10" < "9"). The price: a transaction left open anywhere in the
 * cluster holds the feed back until it ends (the statement timeout bounds the service's own).
 */
export const readRevocationFeedSql = schemaSql(
  (s) => `SELECT f.xid::text AS xid, f.id::text AS id, f.user_id AS "userId", f.session_id AS "sessionId", f.revoked_at AS "revokedAt",
              f.access_tokens_valid_until AS "accessTokensValidUntil"
         FROM ${s}.revocation_feed f
        WHERE (f.xid, f.id) > ($1::xid8, $2::bigint) AND f.xid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY f.xid, f.id
        LIMIT $3`,
);

/** Up to $2 entries whose accessTokensValidUntil is before $1: their deny entries are moot. */
export const deleteExpiredRevocationFeedSql = schemaSql(
  (s) => `DELETE FROM ${s}.revocation_feed
        WHERE (xid, id) IN (SELECT xid, id FROM ${s}.revocation_feed WHERE access_tokens_valid_until < $1 LIMIT $2)
        RETURNING 1`,
);
