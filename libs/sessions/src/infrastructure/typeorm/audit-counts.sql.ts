import { schemaSql } from './schema-name';

/**
 * Event ids are UUIDv7, their first 48 bits the time they were made in milliseconds: the smallest
 * id of that millisecond, for a range on the (action, event_id) index.
 */
export function eventIdFloor(at: Date): string {
  const hex = Math.max(0, Math.floor(at.getTime())).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

/**
 * How far before `since` the event id range starts: an id is made from the process's clock when
 * its event is, occurred_at from the Clock port; the exact bound is occurred_at's.
 */
export const EVENT_ID_SLACK_MS = 5 * 60_000;

/**
 * $1 action, $2 event id floor (eventIdFloor of $3 minus EVENT_ID_SLACK_MS), $3 since: the
 * action's outcomes since then, read through audit_entries_action_idx (action, event_id DESC).
 */
export const countAuditOutcomesSql = schemaSql(
  (s) => `SELECT count(*) FILTER (WHERE outcome = 'succeeded')::int AS succeeded, count(*) FILTER (WHERE outcome = 'failed')::int AS failed
         FROM ${s}.audit_entries WHERE action = $1 AND event_id >= $2::uuid AND occurred_at >= $3`,
);
