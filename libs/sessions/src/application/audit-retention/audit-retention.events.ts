import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class AuditRetentionAttempted extends AuditableEvent {
  readonly action = AuditActions.auditRetention;
  readonly outcome = 'attempted' as const;
}

export class AuditPartitionDropped extends AuditableEvent {
  readonly action = AuditActions.auditRetention;
  readonly outcome = 'succeeded' as const;
}

export class AuditRetentionFailed extends AuditableEvent {
  readonly action = AuditActions.auditRetention;
  readonly outcome = 'failed' as const;
}

export const AUDIT_RETENTION_EVENTS: EventTriad = {
  attempted: AuditRetentionAttempted,
  succeeded: AuditPartitionDropped,
  failed: AuditRetentionFailed,
};
