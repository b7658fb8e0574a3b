import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class ExpiredSessionsPurgeAttempted extends AuditableEvent {
  readonly action = AuditActions.purgeExpiredSessions;
  readonly outcome = 'attempted' as const;
}

export class ExpiredSessionsPurged extends AuditableEvent {
  readonly action = AuditActions.purgeExpiredSessions;
  readonly outcome = 'succeeded' as const;
}

export class ExpiredSessionsPurgeFailed extends AuditableEvent {
  readonly action = AuditActions.purgeExpiredSessions;
  readonly outcome = 'failed' as const;
}

export const PURGE_EXPIRED_SESSIONS_EVENTS: EventTriad = {
  attempted: ExpiredSessionsPurgeAttempted,
  succeeded: ExpiredSessionsPurged,
  failed: ExpiredSessionsPurgeFailed,
};
