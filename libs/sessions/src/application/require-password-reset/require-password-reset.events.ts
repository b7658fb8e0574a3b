import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class PasswordResetRequirementAttempted extends AuditableEvent {
  readonly action = AuditActions.requirePasswordReset;
  readonly outcome = 'attempted' as const;
}

export class PasswordResetRequired extends AuditableEvent {
  readonly action = AuditActions.requirePasswordReset;
  readonly outcome = 'succeeded' as const;
}

export class PasswordResetRequirementFailed extends AuditableEvent {
  readonly action = AuditActions.requirePasswordReset;
  readonly outcome = 'failed' as const;
}

export const REQUIRE_PASSWORD_RESET_EVENTS: EventTriad = {
  attempted: PasswordResetRequirementAttempted,
  succeeded: PasswordResetRequired,
  failed: PasswordResetRequirementFailed,
};
