import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class UserLoginAttempted extends AuditableEvent {
  readonly action = AuditActions.login;
  readonly outcome = 'attempted' as const;
}

export class UserLoginSucceeded extends AuditableEvent {
  readonly action = AuditActions.login;
  readonly outcome = 'succeeded' as const;
}

export class UserLoginFailed extends AuditableEvent {
  readonly action = AuditActions.login;
  readonly outcome = 'failed' as const;
}

export const LOGIN_EVENTS: EventTriad = { attempted: UserLoginAttempted, succeeded: UserLoginSucceeded, failed: UserLoginFailed };
