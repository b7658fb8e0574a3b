import { type ServiceProcess } from '../support/service-process';
import { sql } from '../support/sql';

/**
 * Post-mortem checks on PostgreSQL after a fault: the audit trail (one Attempted and exactly one
 * outcome per operation, counting entries the service gave up writing and logged as
 * `audit_write_failed`), and revocations that are all-or-nothing and recorded.
 */

export interface AuditFact {
  readonly eventId: string;
  readonly correlationId: string;
  readonly action: string;
  readonly outcome: string;
  readonly reason: string | null;
  readonly sessionId: string | null;
  readonly userId: string | null;
  readonly details: Record<string, unknown>;
  readonly source: 'db' | 'log';
}

export async function auditFromDatabase(url: string): Promise<AuditFact[]> {
  const rows = await sql<{
    event_id: string;
    correlation_id: string;
    action: string;
    outcome: string;
    reason: string | null;
    session_id: string | null;
    user_id: string | null;
    details: Record<string, unknown>;
  }>(url, 'SELECT event_id, correlation_id, action, outcome, reason, session_id, user_id, details FROM audit_entries');
  return rows.map((row) => ({
    eventId: row.event_id,
    correlationId: row.correlation_id,
    action: row.action,
    outcome: row.outcome,
    reason: row.reason,
    sessionId: row.session_id,
    userId: row.user_id,
    details: row.details ?? {},
    source: 'db',
  }));
}

/** Entries a service logged as `audit_write_failed` (its retries ran out): their outcome record of last resort. */
export function auditFromLogs(services: readonly ServiceProcess[]): AuditFact[] {
  const facts: AuditFact[] = [];
  for (const service of services) {
    for (const { payload } of service.structuredLogs('audit_write_failed')) {
      const entry = payload.entry as Record<string, unknown> | undefined;
      if (!entry || typeof entry.eventId !== 'string' || typeof entry.correlationId !== 'string') continue;
      facts.push({
        eventId: entry.eventId,
        correlationId: entry.correlationId,
        action: String(entry.action),
        outcome: String(entry.outcome),
        reason: (entry.reason as string | null) ?? null,
        sessionId: (entry.sessionId as string | null) ?? null,
        userId: (entry.userId as string | null) ?? null,
        details: (entry.details as Record<string, unknown>) ?? {},
        source: 'log',
      });
    }
  }
  return facts;
}

export interface TriadReport {
  readonly operations: number;
  /** Attempted with no outcome anywhere. */
  readonly missingOutcome: AuditFact[];
  /** Correlations with two or more outcomes (or two Attempted). */
  readonly duplicated: Array<{ correlationId: string; outcomes: string[] }>;
  /** An outcome with no Attempted anywhere. */
  readonly outcomeWithoutAttempted: AuditFact[];
  /** Operations that are complete only thanks to entries from the logs. */
  readonly completedFromLogs: number;
  readonly loggedEntries: number;
  readonly interrupted: number;
  readonly byOutcome: Record<string, number>;
}

/** Groups by correlation id: database entries first, log entries fill in what the database lacks. */
export function triads(facts: readonly AuditFact[]): TriadReport {
  const byEvent = new Map<string, AuditFact>();
  for (const fact of facts) if (fact.source === 'db') byEvent.set(fact.eventId, fact);
  let loggedEntries = 0;
  for (const fact of facts) {
    if (fact.source !== 'log') continue;
    loggedEntries += 1;
    if (!byEvent.has(fact.eventId)) byEvent.set(fact.eventId, fact);
  }
  const byCorrelation = new Map<string, AuditFact[]>();
  for (const fact of byEvent.values()) {
    const group = byCorrelation.get(fact.correlationId) ?? [];
    group.push(fact);
    byCorrelation.set(fact.correlationId, group);
  }
  const missingOutcome: AuditFact[] = [];
  const duplicated: Array<{ correlationId: string; outcomes: string[] }> = [];
  const outcomeWithoutAttempted: AuditFact[] = [];
  const byOutcome: Record<string, number> = {};
  let completedFromLogs = 0;
  let interrupted = 0;
  for (const [correlationId, group] of byCorrelation) {
    const attempted = group.filter((fact) => fact.outcome === 'attempted');
    const outcomes = group.filter((fact) => fact.outcome !== 'attempted');
    for (const fact of outcomes) {
      const key = `${fact.action}:${fact.outcome}${fact.reason === 'interrupted' ? ':interrupted' : ''}`;
      byOutcome[key] = (byOutcome[key] ?? 0) + 1;
      if (fact.reason === 'interrupted') interrupted += 1;
    }
    if (attempted.length > 1 || outcomes.length > 1) {
      duplicated.push({
        correlationId,
        outcomes: group.map((fact) => `${fact.action}:${fact.outcome}${fact.reason ? `(${fact.reason})` : ''}[${fact.source}]`),
      });
    } else if (attempted.length === 1 && outcomes.length === 0) {
      missingOutcome.push(attempted[0]);
    } else if (attempted.length === 0) {
      outcomeWithoutAttempted.push(outcomes[0]);
    } else if (group.some((fact) => fact.source === 'log')) {
      completedFromLogs += 1;
    }
  }
  return { operations: byCorrelation.size, missingOutcome, duplicated, outcomeWithoutAttempted, completedFromLogs, loggedEntries, interrupted, byOutcome };
}

/** Short, readable lines for a failure message. */
export function describeFacts(facts: readonly AuditFact[], limit = 10): string[] {
  return facts
    .slice(0, limit)
    .map((fact) => `${fact.correlationId} ${fact.action}:${fact.outcome} reason=${fact.reason} session=${fact.sessionId} [${fact.source}]`);
}

/**
 * Sessions revoked while a refresh token of theirs is not: a revocation half done. A token
 * issued by a refresh that raced the revocation (its transaction began before the revocation
 * and committed after its snapshot) is not revoked by it, but it was never usable: rotation
 * needs the session active in the same statement. Those are returned apart, recognised as
 * rotation tokens (issued after the session opened) issued within `raceWindowSeconds` before
 * the revocation.
 */
export async function halfDoneRevocations(
  url: string,
  raceWindowSeconds = 10,
): Promise<{ halfDone: Record<string, unknown>[]; neverUsable: Record<string, unknown>[] }> {
  const rows = await sql<{ session_id: string; token_id: string; rotation: boolean; within_race_window: boolean; revoked_reason: string }>(
    url,
    `SELECT s.id AS session_id, t.id AS token_id, s.revoked_reason,
            t.issued_at > s.created_at AS rotation,
            t.issued_at > s.revoked_at - make_interval(secs => $1) AS within_race_window
       FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id
      WHERE s.revoked_at IS NOT NULL AND t.revoked_at IS NULL`,
    [raceWindowSeconds],
  );
  return {
    halfDone: rows.filter((row) => !(row.rotation && row.within_race_window)),
    neverUsable: rows.filter((row) => row.rotation && row.within_race_window),
  };
}

/** The revocation actions and the reason each writes on the sessions it ends. */
const REVOCATION_ACTIONS = ['user.logout', 'sessions.revoke_all', 'session.revoke', 'user.password_change', 'tokens.refresh'];

function sessionIdsOf(fact: AuditFact): string[] {
  const listed = Array.isArray(fact.details.sessionIds) ? (fact.details.sessionIds as string[]) : [];
  return fact.action === 'user.logout' && fact.sessionId && listed.length === 0 ? [fact.sessionId] : listed;
}

export interface RevocationAudit {
  /** Revoked sessions that no Succeeded entry names. */
  readonly revokedWithoutSucceeded: Array<{ id: string; revoked_reason: string }>;
  /** Sessions a Succeeded entry names that are not revoked in PostgreSQL. */
  readonly succeededNotInDatabase: Array<{ correlationId: string; action: string; sessionId: string }>;
  /** Sessions named by two Succeeded revocations. */
  readonly revokedTwice: string[];
  /** Succeeded logins/refreshes whose session does not exist. */
  readonly succeededSessionMissing: string[];
  /** Succeeded revoke-alls whose details.count differs from the sessions they list. */
  readonly countMismatch: string[];
  /** Sessions whose revoked_reason is not the reason of the Succeeded entry that ended them. */
  readonly reasonMismatch: string[];
  readonly revokedSessions: number;
}

/** Succeeded audit entries against the rows they claim to have changed, both ways. */
export async function revocationAudit(url: string, facts: readonly AuditFact[]): Promise<RevocationAudit> {
  const sessions = await sql<{ id: string; revoked_reason: string | null }>(url, 'SELECT id, revoked_reason FROM sessions');
  const reasonOf = new Map(sessions.map((row) => [row.id, row.revoked_reason]));
  const named = new Map<string, number>();
  const succeededNotInDatabase: RevocationAudit['succeededNotInDatabase'] = [];
  const succeededSessionMissing: string[] = [];
  const countMismatch: string[] = [];
  const reasonMismatch: string[] = [];
  for (const fact of facts) {
    if (fact.source !== 'db' || fact.outcome !== 'succeeded') continue;
    if ((fact.action === 'user.login' || fact.action === 'tokens.refresh') && fact.sessionId && !reasonOf.has(fact.sessionId)) {
      succeededSessionMissing.push(`${fact.action} ${fact.correlationId} session ${fact.sessionId}`);
    }
    if (!REVOCATION_ACTIONS.includes(fact.action)) continue;
    const ids = sessionIdsOf(fact);
    if (
      fact.action === 'sessions.revoke_all' &&
      typeof fact.details.count === 'number' &&
      !fact.details.sessionIdsTruncated &&
      fact.details.count !== ids.length
    ) {
      countMismatch.push(`${fact.correlationId}: count ${fact.details.count}, ${ids.length} ids`);
    }
    for (const id of ids) {
      // A password change lists the sessions its nested revoke-all (in the same transaction) ended.
      if (fact.action !== 'user.password_change') named.set(id, (named.get(id) ?? 0) + 1);
      const reason = reasonOf.get(id);
      if (!reason) succeededNotInDatabase.push({ correlationId: fact.correlationId, action: fact.action, sessionId: id });
      else if (fact.action !== 'user.password_change' && fact.reason !== reason)
        reasonMismatch.push(`${id}: revoked_reason ${reason}, ${fact.action} entry says ${fact.reason}`);
    }
  }
  const revoked = sessions.filter((row) => row.revoked_reason !== null);
  return {
    revokedWithoutSucceeded: revoked.filter((row) => !named.has(row.id)).map((row) => ({ id: row.id, revoked_reason: row.revoked_reason! })),
    succeededNotInDatabase,
    revokedTwice: [...named].filter(([, count]) => count > 1).map(([id]) => id),
    succeededSessionMissing,
    countMismatch,
    reasonMismatch,
    revokedSessions: revoked.length,
  };
}

/** Of these sessions, the ones PostgreSQL does not show as revoked. */
export async function notRevoked(url: string, sessionIds: readonly string[]): Promise<string[]> {
  if (sessionIds.length === 0) return [];
  const rows = await sql<{ id: string }>(url, 'SELECT id FROM sessions WHERE id = ANY($1::uuid[]) AND revoked_at IS NULL', [[...sessionIds]]);
  const missing = await sql<{ id: string }>(url, 'SELECT x AS id FROM unnest($1::uuid[]) AS x WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = x)', [
    [...sessionIds],
  ]);
  return [...rows.map((row) => row.id), ...missing.map((row) => `${row.id} (no such session)`)];
}
