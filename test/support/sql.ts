import { Client } from 'pg';

/** Runs one query against a test file's own database, on a connection of its own. */
export async function sql<T extends Record<string, unknown> = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
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
