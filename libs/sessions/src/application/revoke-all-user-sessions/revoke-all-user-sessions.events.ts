import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class AllSessionsRevocationAttempted extends AuditableEvent {
  readonly action = AuditActions.revokeAllSessions;
  readonly outcome = 'attempted' as const;
}

export class AllSessionsRevoked extends AuditableEvent {
  readonly action = AuditActions.revokeAllSessions;
  readonly outcome = 'succeeded' as const;
}

export class AllSessionsRevocationFailed extends AuditableEvent {
  readonly action = AuditActions.revokeAllSessions;
  readonly outcome = 'failed' as const;
}

export const REVOKE_ALL_EVENTS: EventTriad = { attempted: AllSessionsRevocationAttempted, succeeded: AllSessionsRevoked, failed: AllSessionsRevocationFailed };
