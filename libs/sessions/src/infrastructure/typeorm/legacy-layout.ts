import { Logger } from '@nestjs/common';
import { QueryRunner } from 'typeorm';
import type { SessionsMigration } from './migrations/sessions-migration';
import { quotedSchema } from './schema-name';

/**
 * Release 0.1 of the library had the host register its TypeORM migrations: every table went into
 * `public` and the history into the host's `public.migrations`. These find such a database and move
 * it into the library's schema, so an upgrade keeps every row.
 */

/** The tables each 0.1 migration created (the others only altered them). */
const TABLES_CREATED_BY: Readonly<Record<string, readonly string[]>> = {
  InitialSchema1764000000000: ['users', 'sessions', 'refresh_tokens', 'audit_entries'],
  CacheMarkerOutbox1764000000200: ['cache_marker_outbox'],
  CacheNamespaces1764000000300: ['cache_namespaces'],
  OneLiveRefreshTokenAndInstances1764000000600: ['instances'],
};

/** The append-only trigger's function, created next to audit_entries by the first migration. */
const TRIGGER_FUNCTION = 'audit_entries_reject_change()';

const logger = new Logger('SessionsMigrations');

/**
 * The library's migrations recorded in `public.migrations` (TypeORM's table, the host's), in the
 * order they ran; none when the schema has a history of its own already (adopted, or never 0.1).
 */
export async function findPublicLayout(q: QueryRunner, schema: string, migrations: readonly SessionsMigration[]): Promise<string[]> {
  const s = quotedSchema(schema);
  const [state] = (await q.query(
    `SELECT to_regclass($1) IS NOT NULL AS own_history,
            EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'migrations' AND column_name = 'name') AS public_history`,
    [`${s}.migrations`],
  )) as Array<{ own_history: boolean; public_history: boolean }>;
  if (!state.public_history) return [];
  if (state.own_history) {
    const [own] = (await q.query(`SELECT EXISTS (SELECT 1 FROM ${s}.migrations) AS any`)) as Array<{ any: boolean }>;
    if (own.any) return [];
  }
  const rows = (await q.query(`SELECT name FROM public.migrations WHERE name = ANY($1) ORDER BY id`, [migrations.map((m) => m.name)])) as Array<{
    name: string;
  }>;
  return rows.map((row) => row.name);
}

/**
 * Moves a 0.1 layout into the schema, inside the caller's migration transaction (under its lock):
 * the tables (their indexes, constraints, triggers and owned sequences go with them), the trigger
 * function, and the history rows, which leave `public.migrations` so the host's TypeORM no longer
 * sees migrations it does not have. Returns the names adopted. Refuses, changing nothing, when a
 * table the history promises is missing from `public` or already present in the schema.
 */
export async function adoptPublicLayout(q: QueryRunner, schema: string, migrations: readonly SessionsMigration[]): Promise<string[]> {
  const names = await findPublicLayout(q, schema, migrations);
  if (names.length === 0) return [];
  const s = quotedSchema(schema);
  const tables = names.flatMap((name) => TABLES_CREATED_BY[name] ?? []);
  for (const table of tables) {
    const [where] = (await q.query(`SELECT to_regclass($1) IS NOT NULL AS in_public, to_regclass($2) IS NOT NULL AS in_schema`, [
      `public.${table}`,
      `${s}.${table}`,
    ])) as Array<{ in_public: boolean; in_schema: boolean }>;
    if (!where.in_public || where.in_schema) {
      throw new Error(
        `Cannot move the 0.1 sessions tables into schema "${schema}": table ${table} is ${where.in_schema ? `already in "${schema}"` : 'missing from public'} ` +
          `although public.migrations records ${names.join(', ')}`,
      );
    }
  }
  for (const table of tables) await q.query(`ALTER TABLE public.${table} SET SCHEMA ${s}`);
  if (names.includes('InitialSchema1764000000000')) await q.query(`ALTER FUNCTION public.${TRIGGER_FUNCTION} SET SCHEMA ${s}`);
  await q.query(`INSERT INTO ${s}.migrations (timestamp, name) SELECT timestamp, name FROM public.migrations WHERE name = ANY($1) ORDER BY id`, [names]);
  await q.query(`DELETE FROM public.migrations WHERE name = ANY($1)`, [names]);
  logger.log(`Moved the sessions tables of release 0.1 (${tables.join(', ')}) from public into schema "${schema}"`);
  return names;
}
