import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class UserDisableAttempted extends AuditableEvent {
  readonly action = AuditActions.disableUser;
  readonly outcome = 'attempted' as const;
}

export class UserDisabled extends AuditableEvent {
  readonly action = AuditActions.disableUser;
  readonly outcome = 'succeeded' as const;
}

export class UserDisableFailed extends AuditableEvent {
  readonly action = AuditActions.disableUser;
  readonly outcome = 'failed' as const;
}

export const DISABLE_USER_EVENTS: EventTriad = { attempted: UserDisableAttempted, succeeded: UserDisabled, failed: UserDisableFailed };
