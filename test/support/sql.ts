import { Client } from 'pg';

/** The schema the library's tables are in, in every test database (the library's default). */
export const TEST_SESSIONS_SCHEMA = 'sessions';

/**
 * A client on a test file's own database whose search_path starts at the library's schema, so a
 * test may name the library's tables unqualified (`SELECT ... FROM sessions`). Only the tests'
 * own connections have it: the library's connections keep the default search_path, so a statement
 * of the library's that forgot its schema fails in every test instead of passing here.
 */
export function testDatabaseClient(url: string): Client {
  return new Client({ connectionString: url, options: `-c search_path=${TEST_SESSIONS_SCHEMA},public` });
}

/** Runs one query against a test file's own database, on a connection of its own (see testDatabaseClient). */
export async function sql<T extends Record<string, unknown> = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = testDatabaseClient(url);
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

export interface AuditRow extends Record<string, unknown> {
  event_id: string;
  correlation_id: string;
  action: string;
  outcome: string;
  user_id: string | null;
  actor_type: string;
  actor_id: string | null;
  session_id: string | null;
  reason: string | null;
  ip_address: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
}

/** Correlation ids whose entries are not exactly one Attempted plus exactly one outcome. */
export async function brokenTriads(url: string): Promise<Array<{ correlation_id: string; outcomes: string[] }>> {
  return sql(
    url,
    `SELECT correlation_id, array_agg(outcome ORDER BY event_id) AS outcomes
       FROM audit_entries GROUP BY correlation_id
     HAVING count(*) FILTER (WHERE outcome = 'attempted') <> 1
         OR count(*) FILTER (WHERE outcome IN ('succeeded', 'failed')) <> 1`,
  );
}
