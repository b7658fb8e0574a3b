import type { AuditEntry } from './views';

/** One operation of the trail: its Attempted entry and its outcome, under one correlation id. */
export interface AuditGroup {
  readonly correlationId: string;
  /** Newest first, as the API lists them (the outcome above its Attempted). */
  readonly entries: readonly AuditEntry[];
}

/**
 * The entries (newest first) grouped by correlation id, each group where its newest entry is, so
 * an operation reads as one block even when its two entries arrived on two pages.
 */
export function groupByCorrelation(entries: readonly AuditEntry[]): AuditGroup[] {
  const groups = new Map<string, AuditEntry[]>();
  for (const entry of entries) {
    const group = groups.get(entry.correlationId);
    if (group) group.push(entry);
    else groups.set(entry.correlationId, [entry]);
  }
  return [...groups].map(([correlationId, grouped]) => ({ correlationId, entries: grouped }));
}
