import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class UserRegistrationAttempted extends AuditableEvent {
  readonly action = AuditActions.register;
  readonly outcome = 'attempted' as const;
}

export class UserRegistered extends AuditableEvent {
  readonly action = AuditActions.register;
  readonly outcome = 'succeeded' as const;
}

export class UserRegistrationFailed extends AuditableEvent {
  readonly action = AuditActions.register;
  readonly outcome = 'failed' as const;
}

export const REGISTER_EVENTS: EventTriad = { attempted: UserRegistrationAttempted, succeeded: UserRegistered, failed: UserRegistrationFailed };
