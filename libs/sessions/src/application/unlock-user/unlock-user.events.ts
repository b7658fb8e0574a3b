import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class UserUnlockAttempted extends AuditableEvent {
  readonly action = AuditActions.unlockUser;
  readonly outcome = 'attempted' as const;
}

export class UserUnlocked extends AuditableEvent {
  readonly action = AuditActions.unlockUser;
  readonly outcome = 'succeeded' as const;
}

export class UserUnlockFailed extends AuditableEvent {
  readonly action = AuditActions.unlockUser;
  readonly outcome = 'failed' as const;
}

export const UNLOCK_USER_EVENTS: EventTriad = { attempted: UserUnlockAttempted, succeeded: UserUnlocked, failed: UserUnlockFailed };
