import { SessionsMigration } from './sessions-migration';

/**
 * The revocation feed (issue 13 point 7): one row per ended session, written in the revocation's
 * own transaction, so every committed revocation is in it and no rolled-back one. Ordered by the
 * writing transaction's id (xid8) and then the row's id: a poll reads only below its snapshot's
 * xmin (readRevocationFeedSql), so a row can never commit behind a cursor already handed out. The
 * primary key is that order, so a poll is one index range. The purge deletes the rows whose
 * accessTokensValidUntil has passed (their index), which keeps the table to one access-token
 * lifetime of revocations.
 */
export const RevocationFeed1764000001700: SessionsMigration = {
  name: 'RevocationFeed1764000001700',

  async up(q, s) {
    await q.query(`
      CREATE TABLE ${s}.revocation_feed (
        xid xid8 NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        user_id uuid NOT NULL,
        session_id uuid NOT NULL,
        revoked_at timestamptz NOT NULL,
        access_tokens_valid_until timestamptz NOT NULL,
        PRIMARY KEY (xid, id)
      )`);
    await q.query(`CREATE INDEX revocation_feed_valid_until_idx ON ${s}.revocation_feed (access_tokens_valid_until)`);
  },

  async down(q, s) {
    await q.query(`DROP TABLE ${s}.revocation_feed`);
  },
};
