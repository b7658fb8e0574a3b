import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class PasswordChangeAttempted extends AuditableEvent {
  readonly action = AuditActions.changePassword;
  readonly outcome = 'attempted' as const;
}

export class PasswordChanged extends AuditableEvent {
  readonly action = AuditActions.changePassword;
  readonly outcome = 'succeeded' as const;
}

export class PasswordChangeFailed extends AuditableEvent {
  readonly action = AuditActions.changePassword;
  readonly outcome = 'failed' as const;
}

export const CHANGE_PASSWORD_EVENTS: EventTriad = { attempted: PasswordChangeAttempted, succeeded: PasswordChanged, failed: PasswordChangeFailed };
