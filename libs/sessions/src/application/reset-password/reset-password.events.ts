import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class PasswordResetAttempted extends AuditableEvent {
  readonly action = AuditActions.resetPassword;
  readonly outcome = 'attempted' as const;
}

export class PasswordReset extends AuditableEvent {
  readonly action = AuditActions.resetPassword;
  readonly outcome = 'succeeded' as const;
}

export class PasswordResetFailed extends AuditableEvent {
  readonly action = AuditActions.resetPassword;
  readonly outcome = 'failed' as const;
}

export const RESET_PASSWORD_EVENTS: EventTriad = { attempted: PasswordResetAttempted, succeeded: PasswordReset, failed: PasswordResetFailed };
