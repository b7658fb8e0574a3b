import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class UserLogoutAttempted extends AuditableEvent {
  readonly action = AuditActions.logout;
  readonly outcome = 'attempted' as const;
}

export class UserLogoutSucceeded extends AuditableEvent {
  readonly action = AuditActions.logout;
  readonly outcome = 'succeeded' as const;
}

export class UserLogoutFailed extends AuditableEvent {
  readonly action = AuditActions.logout;
  readonly outcome = 'failed' as const;
}

export const LOGOUT_EVENTS: EventTriad = { attempted: UserLogoutAttempted, succeeded: UserLogoutSucceeded, failed: UserLogoutFailed };
