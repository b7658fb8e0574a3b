import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class SessionRevocationAttempted extends AuditableEvent {
  readonly action = AuditActions.revokeSession;
  readonly outcome = 'attempted' as const;
}

export class SessionRevoked extends AuditableEvent {
  readonly action = AuditActions.revokeSession;
  readonly outcome = 'succeeded' as const;
}

export class SessionRevocationFailed extends AuditableEvent {
  readonly action = AuditActions.revokeSession;
  readonly outcome = 'failed' as const;
}

export const REVOKE_SESSION_EVENTS: EventTriad = { attempted: SessionRevocationAttempted, succeeded: SessionRevoked, failed: SessionRevocationFailed };
