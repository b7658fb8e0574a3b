import { AuditActions } from '../../domain/audit-action';
import { AuditableEvent, EventTriad } from '../audit/auditable-event';

export class TokenRefreshAttempted extends AuditableEvent {
  readonly action = AuditActions.refresh;
  readonly outcome = 'attempted' as const;
}

export class TokensRefreshed extends AuditableEvent {
  readonly action = AuditActions.refresh;
  readonly outcome = 'succeeded' as const;
}

export class TokenRefreshFailed extends AuditableEvent {
  readonly action = AuditActions.refresh;
  readonly outcome = 'failed' as const;
}

export const REFRESH_EVENTS: EventTriad = { attempted: TokenRefreshAttempted, succeeded: TokensRefreshed, failed: TokenRefreshFailed };
