import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class AdminBootstrapAttempted extends AuditableEvent {
  readonly action = AuditActions.bootstrapAdmin;
  readonly outcome = 'attempted' as const;
}

export class AdminBootstrapped extends AuditableEvent {
  readonly action = AuditActions.bootstrapAdmin;
  readonly outcome = 'succeeded' as const;
}

export class AdminBootstrapFailed extends AuditableEvent {
  readonly action = AuditActions.bootstrapAdmin;
  readonly outcome = 'failed' as const;
}

export const BOOTSTRAP_ADMIN_EVENTS: EventTriad = { attempted: AdminBootstrapAttempted, succeeded: AdminBootstrapped, failed: AdminBootstrapFailed };
