import { ApiProperty } from '@nestjs/swagger';

export const CACHE_STATES = ['trusted', 'repairing', 'unreachable'] as const;
export type CacheState = (typeof CACHE_STATES)[number];

export class Last24hView {
  @ApiProperty({ description: 'Logins that opened a session' }) signIns: number;
  @ApiProperty({ description: 'Logins refused (wrong password, locked, delayed, disabled ...)' }) failedSignIns: number;
  @ApiProperty({ description: 'Sessions revoked, by anyone for any reason' }) revocations: number;
}

export class LockedUserView {
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'null when no account has the email' }) userId: string | null;
  @ApiProperty() email: string;
  @ApiProperty() lockedUntil: Date;
}

export class LockoutsView {
  @ApiProperty({ description: 'Login lockouts in force, each (email, network) once' }) current: number;
  @ApiProperty({ type: [LockedUserView], description: 'Those that end last, at most 20' }) users: LockedUserView[];
}

export class CacheView {
  @ApiProperty({ description: 'The auth check trusts the session cache (otherwise it asks PostgreSQL)' }) trusted: boolean;
  @ApiProperty({ enum: CACHE_STATES, description: 'repairing: reachable, re-marking revocations after an outage' }) state: CacheState;
  @ApiProperty({ description: 'Revocation markers committed and not yet written to a cache' }) queuedMarkers: number;
}

export class DatabaseView {
  @ApiProperty() healthy: boolean;
  @ApiProperty({ nullable: true, type: Number, description: 'How long a ping took; null when it failed' }) latencyMs: number | null;
}

export class OverviewResponse {
  @ApiProperty() generatedAt: Date;
  @ApiProperty({ description: 'Unrevoked, unexpired sessions' }) activeSessions: number;
  @ApiProperty({ type: Last24hView }) last24h: Last24hView;
  @ApiProperty({ type: LockoutsView }) lockouts: LockoutsView;
  @ApiProperty({ type: CacheView }) cache: CacheView;
  @ApiProperty({ type: DatabaseView }) database: DatabaseView;
}
