import { SessionsMigration } from './sessions-migration';

export const OneLiveRefreshTokenAndInstances1764000000600: SessionsMigration = {
  name: 'OneLiveRefreshTokenAndInstances1764000000600',

  async up(q, s) {
    // A replay inside the refresh grace used to fork a second live chain. Keep the newest live
    // token of each session (revoked, not rotated: presenting an older fork is refused, not
    // treated as reuse), then let the database hold one live refresh token per session.
    await q.query(`
      UPDATE ${s}.refresh_tokens t SET revoked_at = now()
       WHERE t.revoked_at IS NULL
         AND EXISTS (SELECT 1 FROM ${s}.refresh_tokens n
                      WHERE n.session_id = t.session_id AND n.revoked_at IS NULL AND (n.issued_at, n.id) > (t.issued_at, t.id))`);
    await q.query(`CREATE UNIQUE INDEX refresh_tokens_one_live_per_session_key ON ${s}.refresh_tokens (session_id) WHERE revoked_at IS NULL`);
    // Every process instance beats here (database clock); recovery closes the open operations
    // only of instances that have stopped beating, never those of a live one, however slow.
    await q.query(`
      CREATE TABLE ${s}.instances (
        id uuid PRIMARY KEY,
        started_at timestamptz NOT NULL,
        last_heartbeat_at timestamptz NOT NULL
      )`);
  },

  async down(q, s) {
    await q.query(`DROP TABLE ${s}.instances`);
    await q.query(`DROP INDEX ${s}.refresh_tokens_one_live_per_session_key`);
  },
};
