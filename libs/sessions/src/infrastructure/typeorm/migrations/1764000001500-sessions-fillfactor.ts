import { SessionsMigration } from './sessions-migration';

/**
 * Leaves a tenth of each new sessions page free. A refresh updates its session's last_seen_at,
 * ip_address and user_agent, none of them indexed: with room on the page PostgreSQL writes the
 * new version beside the old one (a HOT update), touching no index; on a full page it must put it
 * on another page and add an entry to every index of the table. Refreshes are the most frequent
 * write there is (one per access-token lifetime of every active session), so that is worth 10 %
 * more heap. A revocation changes revoked_at, which partial indexes name in their predicates, so
 * it is never HOT whatever the fillfactor; it only adds to the indexes whose predicate the revoked
 * row meets (not sessions_user_active_idx or sessions_live_expiry_idx), and happens once a session.
 * refresh_tokens keeps the default: its rows are inserted and ended, never touched in place.
 *
 * The setting applies to pages written from now on (no rewrite, no lock beyond a moment's);
 * existing pages get the room back as autovacuum frees them.
 */
export const SessionsFillfactor1764000001500: SessionsMigration = {
  name: 'SessionsFillfactor1764000001500',

  async up(q, s) {
    await q.query(`ALTER TABLE ${s}.sessions SET (fillfactor = 90)`);
  },

  async down(q, s) {
    await q.query(`ALTER TABLE ${s}.sessions RESET (fillfactor)`);
  },
};
