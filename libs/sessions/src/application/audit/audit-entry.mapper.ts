import { AuditEntry } from '../ports/audit-log.port';
import { AuditableEvent } from './auditable-event';

/** How many session ids an audit entry lists; the count is always exact. */
export const MAX_SESSION_IDS_IN_AUDIT = 1000;

export function toAuditEntry(event: AuditableEvent): AuditEntry {
  const details: Record<string, unknown> = { ...event.details };
  if (event.count !== null) details.count = event.count;
  if (event.sessionIds.length > 0) {
    details.sessionIds = event.sessionIds.slice(0, MAX_SESSION_IDS_IN_AUDIT);
    if (event.sessionIds.length > MAX_SESSION_IDS_IN_AUDIT) details.sessionIdsTruncated = true;
  }
  return {
    eventId: event.eventId,
    correlationId: event.correlationId,
    action: event.action,
    outcome: event.outcome,
    occurredAt: event.occurredAt,
    userId: event.subjectUserId,
    actorType: event.actor.type,
    actorId: event.actor.id,
    actorName: event.actor.name ?? null,
    sessionId: event.sessionId,
    reason: event.reason,
    ipAddress: event.ipAddress,
    userAgent: event.userAgent,
    requestId: event.requestId,
    details,
  };
}
