import { SessionsConfigurationError } from '../../domain/sessions-error';

/** The PostgreSQL schema the library's tables live in unless the host names another. */
export const DEFAULT_SESSIONS_SCHEMA = 'sessions';

/** A plain identifier that needs no quoting: lower case, at most 63 bytes (PostgreSQL's NAMEDATALEN - 1). */
export const SESSIONS_SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * What is wrong with `name` as the library's schema, or undefined when nothing is: it must be a
 * plain identifier, and not one the library must not own (`public` is the host's, with the host's
 * TypeORM `migrations` table; `pg_*` and `information_schema` are PostgreSQL's). The module's
 * options check and every runner entry point ask this one question.
 */
export function sessionsSchemaProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || !SESSIONS_SCHEMA_PATTERN.test(name)) {
    return `must be a PostgreSQL identifier of lower-case letters, digits and _ (${SESSIONS_SCHEMA_PATTERN.source}) (got ${JSON.stringify(name)})`;
  }
  if (name.startsWith('pg_')) return `must not start with pg_, which PostgreSQL reserves for its own schemas (got ${JSON.stringify(name)})`;
  if (name === 'public' || name === 'information_schema') return `cannot be "${name}": the library needs a schema of its own`;
  return undefined;
}

/** The library's schema name, checked (sessionsSchemaProblem); the default when absent. */
export function sessionsSchemaName(schema: string | undefined): string {
  const name = schema ?? DEFAULT_SESSIONS_SCHEMA;
  const problem = sessionsSchemaProblem(name);
  if (problem !== undefined) throw new SessionsConfigurationError(`The sessions schema ${problem}`);
  return name;
}

/** `"sessions"`: the schema as it stands before every table name in the library's SQL. */
export function quotedSchema(schema: string): string {
  return `"${sessionsSchemaName(schema)}"`;
}

/**
 * A statement of the library's, for any schema: `build` gets the quoted schema and writes it before
 * every table name (no statement relies on search_path, which PgBouncer's transaction pooling does
 * not keep). Each schema's text is built once.
 */
export function schemaSql(build: (s: string) => string): (schema: string) => string {
  const built = new Map<string, string>();
  return (schema) => {
    let sql = built.get(schema);
    if (sql === undefined) {
      sql = build(quotedSchema(schema));
      built.set(schema, sql);
    }
    return sql;
  };
}
