import type { DataSource } from 'typeorm';

/**
 * The partitions of the audit trail the planner knows to be empty (ANALYZEd, no page): the months
 * created ahead and an unused last month. A plan reads such a partition by a Seq Scan of nothing,
 * which is no read of the trail; the plan checks leave them out.
 */
export async function emptyAuditPartitions(dataSource: DataSource, schema = 'sessions'): Promise<Set<string>> {
  const rows = await dataSource.query<Array<{ name: string }>>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = $1::regclass AND c.relpages = 0 AND c.reltuples = 0`,
    [`${schema}.audit_entries`],
  );
  return new Set(rows.map((row) => row.name));
}

/** An index of a partition named as the migration named the trail's index (audit_entries_y2026m12_user_idx: audit_entries_user_idx). */
export const trailIndexName = (name: string): string => name.replace(/^audit_entries_y\d{4}m\d{2}_/, 'audit_entries_');
