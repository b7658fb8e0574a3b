import { SessionsMigration } from './sessions-migration';

export const CacheNamespaces1764000000300: SessionsMigration = {
  name: 'CacheNamespaces1764000000300',

  async up(q, s) {
    // Every cache a deployment on this database writes markers to (a Redis and a key prefix, or
    // one process's memory), with when one of its instances was last seen: a revocation queues its
    // markers for each live namespace but its own, and each namespace drains only its own rows.
    await q.query(`
      CREATE TABLE ${s}.cache_namespaces (
        namespace text PRIMARY KEY,
        last_seen_at timestamptz NOT NULL
      )`);
    // Rows queued before namespaces existed get '' (nobody's); they age out with the others.
    await q.query(`ALTER TABLE ${s}.cache_marker_outbox ADD COLUMN namespace text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE ${s}.cache_marker_outbox ALTER COLUMN namespace DROP DEFAULT`);
    await q.query(`CREATE INDEX cache_marker_outbox_namespace_id ON ${s}.cache_marker_outbox (namespace, id)`);
  },

  async down(q, s) {
    await q.query(`DROP INDEX ${s}.cache_marker_outbox_namespace_id`);
    await q.query(`ALTER TABLE ${s}.cache_marker_outbox DROP COLUMN namespace`);
    await q.query(`DROP TABLE ${s}.cache_namespaces`);
  },
};
