/** The one connection a migration may use: the runner's, inside its transaction. */
export interface MigrationQueries {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * One step of the library's schema. `schema` is the library's schema as a quoted identifier
 * (`"sessions"`): every object a migration creates or names is qualified with it, so nothing
 * depends on the connection's search_path (PgBouncer transaction pooling shares sessions).
 */
export interface SessionsMigration {
  /** As 0.1 named its TypeORM migration (class name: what, then a 13-digit timestamp), so a 0.1 history is recognised. */
  readonly name: string;
  up(q: MigrationQueries, schema: string): Promise<void>;
  down(q: MigrationQueries, schema: string): Promise<void>;
}

/** The timestamp the name ends with, stored beside it as TypeORM does. */
export function migrationTimestamp(migration: Pick<SessionsMigration, 'name'>): number {
  const digits = /(\d{13})$/.exec(migration.name)?.[1];
  if (!digits) throw new Error(`Migration name ${migration.name} does not end with a 13-digit timestamp`);
  return Number(digits);
}
