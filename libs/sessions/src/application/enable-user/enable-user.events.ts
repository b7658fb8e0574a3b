import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class UserEnableAttempted extends AuditableEvent {
  readonly action = AuditActions.enableUser;
  readonly outcome = 'attempted' as const;
}

export class UserEnabled extends AuditableEvent {
  readonly action = AuditActions.enableUser;
  readonly outcome = 'succeeded' as const;
}

export class UserEnableFailed extends AuditableEvent {
  readonly action = AuditActions.enableUser;
  readonly outcome = 'failed' as const;
}

export const ENABLE_USER_EVENTS: EventTriad = { attempted: UserEnableAttempted, succeeded: UserEnabled, failed: UserEnableFailed };
