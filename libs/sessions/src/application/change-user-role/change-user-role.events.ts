import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class UserRoleChangeAttempted extends AuditableEvent {
  readonly action = AuditActions.changeUserRole;
  readonly outcome = 'attempted' as const;
}

export class UserRoleChanged extends AuditableEvent {
  readonly action = AuditActions.changeUserRole;
  readonly outcome = 'succeeded' as const;
}

export class UserRoleChangeFailed extends AuditableEvent {
  readonly action = AuditActions.changeUserRole;
  readonly outcome = 'failed' as const;
}

export const CHANGE_USER_ROLE_EVENTS: EventTriad = { attempted: UserRoleChangeAttempted, succeeded: UserRoleChanged, failed: UserRoleChangeFailed };
