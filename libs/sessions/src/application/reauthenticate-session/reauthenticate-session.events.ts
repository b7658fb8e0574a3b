import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class SessionReauthenticationAttempted extends AuditableEvent {
  readonly action = AuditActions.reauthenticate;
  readonly outcome = 'attempted' as const;
}

export class SessionReauthenticated extends AuditableEvent {
  readonly action = AuditActions.reauthenticate;
  readonly outcome = 'succeeded' as const;
}

export class SessionReauthenticationFailed extends AuditableEvent {
  readonly action = AuditActions.reauthenticate;
  readonly outcome = 'failed' as const;
}

export const REAUTHENTICATE_EVENTS: EventTriad = {
  attempted: SessionReauthenticationAttempted,
  succeeded: SessionReauthenticated,
  failed: SessionReauthenticationFailed,
};
