import { MigrationInterface, QueryRunner } from 'typeorm';

export class CacheMarkerOutbox1764000000200 implements MigrationInterface {
  name = 'CacheMarkerOutbox1764000000200';

  async up(q: QueryRunner): Promise<void> {
    // Revocation markers an instance could not write to Redis, committed with the revocation;
    // any instance that reaches Redis writes them within a second.
    await q.query(`
      CREATE TABLE cache_marker_outbox (
        id bigserial PRIMARY KEY,
        user_id uuid NOT NULL,
        session_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE cache_marker_outbox`);
  }
}
