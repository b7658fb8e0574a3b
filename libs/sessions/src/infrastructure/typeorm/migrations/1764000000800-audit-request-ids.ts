import { SessionsMigration } from './sessions-migration';

export const AuditRequestIds1764000000800: SessionsMigration = {
  name: 'AuditRequestIds1764000000800',

  async up(q, s) {
    // The X-Request-Id of the request that caused the command, so its log line and its audit
    // entries can be joined; null for a command no request caused (start-up, a host's own module).
    // The CHECK is RequestContext's rule: nothing a client sent can forge a line or a header.
    // Adding a nullable column rewrites no row, so the append-only triggers are not involved.
    await q.query(`
      ALTER TABLE ${s}.audit_entries
        ADD COLUMN request_id varchar(128),
        ADD CONSTRAINT audit_entries_request_id_check CHECK (request_id ~ '^[A-Za-z0-9._:-]{1,128}$')`);
    // GET /admin/audit?requestId=: most entries of a busy trail have one, each of few entries.
    await q.query(`CREATE INDEX audit_entries_request_id_idx ON ${s}.audit_entries (request_id, event_id DESC) WHERE request_id IS NOT NULL`);
  },

  async down(q, s) {
    await q.query(`DROP INDEX ${s}.audit_entries_request_id_idx`);
    await q.query(`ALTER TABLE ${s}.audit_entries DROP CONSTRAINT audit_entries_request_id_check, DROP COLUMN request_id`);
  },
};
