import { SessionsMigration } from './sessions-migration';

export const CacheMarkerOutbox1764000000200: SessionsMigration = {
  name: 'CacheMarkerOutbox1764000000200',

  async up(q, s) {
    // Revocation markers an instance could not write to Redis, committed with the revocation;
    // any instance that reaches Redis writes them within a second.
    await q.query(`
      CREATE TABLE ${s}.cache_marker_outbox (
        id bigserial PRIMARY KEY,
        user_id uuid NOT NULL,
        session_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  },

  async down(q, s) {
    await q.query(`DROP TABLE ${s}.cache_marker_outbox`);
  },
};
