import { SessionsMigration } from './sessions-migration';

export const ServiceActors1764000000700: SessionsMigration = {
  name: 'ServiceActors1764000000700',

  async up(q, s) {
    // A module of the host acting on its own behalf (Actors.service(name)) is recorded as actor
    // type 'service' with its name; only a service has a name. Adding a nullable column rewrites no
    // row, so the append-only triggers are not involved.
    await q.query(`
      ALTER TABLE ${s}.audit_entries
        DROP CONSTRAINT audit_entries_actor_type_check,
        ADD CONSTRAINT audit_entries_actor_type_check CHECK (actor_type IN ('user', 'admin', 'system', 'service')),
        ADD COLUMN actor_name varchar(64),
        ADD CONSTRAINT audit_entries_actor_name_check CHECK ((actor_type = 'service') = (actor_name IS NOT NULL))`);
  },

  async down(q, s) {
    // Refused by the old CHECK while a service's entry exists: the trail is append-only, so such a
    // schema cannot go back without losing records.
    await q.query(`
      ALTER TABLE ${s}.audit_entries
        DROP CONSTRAINT audit_entries_actor_name_check,
        DROP COLUMN actor_name,
        DROP CONSTRAINT audit_entries_actor_type_check,
        ADD CONSTRAINT audit_entries_actor_type_check CHECK (actor_type IN ('user', 'admin', 'system'))`);
  },
};
