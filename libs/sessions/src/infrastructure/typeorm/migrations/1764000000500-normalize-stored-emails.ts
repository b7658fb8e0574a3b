import { normalizeEmail } from '../../../domain/email-address';
import { SessionsMigration } from './sessions-migration';

/**
 * Stored emails were trimmed and lower-cased only; lookups now use normalizeEmail (NFKC, IDNA
 * domain). ASCII addresses are unchanged by it, so only non-ASCII rows are rewritten, keeping
 * what was stored in `email_as_registered` so `down` can put it back. A row whose normalized
 * form belongs to another account already (two look-alike registrations) or would not fit the
 * column keeps its email: it is left for an operator, and `email_as_registered` stays null.
 */
export const NormalizeStoredEmails1764000000500: SessionsMigration = {
  name: 'NormalizeStoredEmails1764000000500',

  async up(q, s) {
    await q.query(`ALTER TABLE ${s}.users ADD COLUMN email_as_registered varchar(254)`);
    const rows = (await q.query(`SELECT id, email FROM ${s}.users WHERE email !~ '^[ -~]*$' ORDER BY created_at, id`)) as Array<{ id: string; email: string }>;
    for (const row of rows) {
      const normalized = normalizeEmail(row.email);
      if (normalized === row.email || [...normalized].length > 254) continue;
      await q.query(
        `UPDATE ${s}.users SET email = $1, email_as_registered = email
         WHERE id = $2 AND NOT EXISTS (SELECT 1 FROM ${s}.users WHERE email = $1)`,
        [normalized, row.id],
      );
    }
  },

  async down(q, s) {
    await q.query(`UPDATE ${s}.users SET email = email_as_registered WHERE email_as_registered IS NOT NULL`);
    await q.query(`ALTER TABLE ${s}.users DROP COLUMN email_as_registered`);
  },
};
