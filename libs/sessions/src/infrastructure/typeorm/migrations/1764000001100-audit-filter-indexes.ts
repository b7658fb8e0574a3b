import { SessionsMigration } from './sessions-migration';

/**
 * Indexes for the admin console's audit filters (GET /admin/audit and its export, issue 11).
 * Pages are read newest first by event_id, so without these the planner walks the primary key
 * and filters each row: cheap for a frequent value, a read of the whole trail for a rare one (an
 * actor, a session, a client address, failures, an old time range). Each index leads with the
 * filtered column and, where the filter picks few entries, ends with event_id DESC, so a page is
 * one range read in page order. Partial on NOT NULL: system entries and entries without a
 * session or address never match these filters and need no index entry. outcome gets no index of
 * its own: attempted and succeeded are each about half the trail (the primary key walk meets a
 * page of them at once); only failed, the rare one, gets a partial index. Plans are checked in
 * test/integration/audit-query-plan.int-spec.ts.
 *
 * Built in the migration's transaction (not CONCURRENTLY, which cannot run in one): on a large
 * trail, appends wait for the build; run it at a quiet time or create the indexes by hand first
 * (CREATE INDEX CONCURRENTLY IF NOT EXISTS with these names, then the migration skips them).
 */
export const AuditFilterIndexes1764000001100: SessionsMigration = {
  name: 'AuditFilterIndexes1764000001100',

  async up(q, s) {
    await q.query(`CREATE INDEX IF NOT EXISTS audit_entries_actor_idx ON ${s}.audit_entries (actor_id, event_id DESC) WHERE actor_id IS NOT NULL`);
    await q.query(`CREATE INDEX IF NOT EXISTS audit_entries_session_idx ON ${s}.audit_entries (session_id, event_id DESC) WHERE session_id IS NOT NULL`);
    await q.query(`CREATE INDEX IF NOT EXISTS audit_entries_ip_address_idx ON ${s}.audit_entries (ip_address, event_id DESC) WHERE ip_address IS NOT NULL`);
    await q.query(`CREATE INDEX IF NOT EXISTS audit_entries_failed_idx ON ${s}.audit_entries (event_id DESC) WHERE outcome = 'failed'`);
    // from/to: a range of occurred_at, sorted by event_id afterwards (a range is bounded; the
    // planner walks the primary key instead when the range holds most of the trail).
    await q.query(`CREATE INDEX IF NOT EXISTS audit_entries_occurred_at_idx ON ${s}.audit_entries (occurred_at)`);
  },

  async down(q, s) {
    for (const index of ['occurred_at', 'failed', 'ip_address', 'session', 'actor']) await q.query(`DROP INDEX ${s}.audit_entries_${index}_idx`);
  },
};
