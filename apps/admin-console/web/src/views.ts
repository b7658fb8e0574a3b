/** The shapes the page reads from the REST API (see docs/openapi/admin-console.json); dates are ISO 8601 strings. */
import type { UserStatus } from './routes';

export interface UserView {
  readonly id: string;
  readonly email: string;
  readonly role: 'user' | 'admin';
  readonly status: UserStatus;
  readonly lockedUntil: string | null;
  readonly passwordResetRequired: boolean;
  readonly createdAt: string;
  readonly lastLoginAt: string | null;
  readonly activeSessions: number;
}

export interface UserPage {
  readonly users: readonly UserView[];
  readonly nextCursor: string | null;
}

export interface SessionView {
  readonly id: string;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly expiresAt: string;
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  readonly device?: { readonly browser: string | null; readonly os: string | null; readonly type: string | null };
  /** The calling admin's own session. */
  readonly current?: boolean;
  readonly revokedAt?: string | null;
  readonly revokedReason?: string | null;
  readonly revokedBy?: string | null;
}

export interface AuditEntry {
  readonly eventId: string;
  readonly correlationId: string;
  readonly action: string;
  readonly outcome: 'attempted' | 'succeeded' | 'failed';
  readonly occurredAt: string;
  readonly userId: string | null;
  readonly actorType: string;
  readonly actorId: string | null;
  readonly actorName: string | null;
  readonly sessionId: string | null;
  readonly reason: string | null;
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AuditPage {
  readonly entries: readonly AuditEntry[];
  readonly nextCursor: string | null;
}

export interface Overview {
  readonly generatedAt: string;
  readonly activeSessions: number;
  readonly last24h: { readonly signIns: number; readonly failedSignIns: number; readonly revocations: number };
  readonly lockouts: {
    readonly current: number;
    readonly users: readonly { readonly userId: string | null; readonly email: string; readonly lockedUntil: string }[];
  };
  readonly cache: { readonly trusted: boolean; readonly state: string; readonly queuedMarkers: number };
  readonly database: { readonly healthy: boolean; readonly latencyMs: number | null };
}

/** What the revoking actions answer (fields absent where a route does not give them). */
export interface RevocationAnswer {
  readonly revokedCount?: number;
  readonly accessTokensValidUntil?: string | null;
}

export interface PasswordResetAnswer extends RevocationAnswer {
  readonly resetToken: string;
  readonly expiresAt: string;
}

export interface BulkRevocationAnswer {
  readonly results: readonly { readonly userId: string; readonly revokedCount: number }[];
  readonly revokedCount: number;
}
