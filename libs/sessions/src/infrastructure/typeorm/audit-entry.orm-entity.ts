import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ActorType } from '../../domain/actor';
import type { AuditAction, AuditOutcome } from '../../domain/audit-action';

/** Append-only at the database level: a trigger rejects UPDATE, DELETE and TRUNCATE. */
@Entity({ name: 'audit_entries' })
export class AuditEntryOrmEntity {
  /** uuid v7: time-ordered, so it is also the cursor for newest-first pages. */
  @PrimaryColumn({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @Column({ name: 'correlation_id', type: 'uuid' })
  correlationId: string;

  @Column({ type: 'varchar', length: 64 })
  action: AuditAction;

  @Column({ type: 'varchar', length: 16 })
  outcome: AuditOutcome;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  @Column({ name: 'actor_type', type: 'varchar', length: 16 })
  actorType: ActorType;

  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  /** A service actor's name (migration 1764000000700); null for every other actor. */
  @Column({ name: 'actor_name', type: 'varchar', length: 64, nullable: true })
  actorName: string | null;

  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  reason: string | null;

  @Column({ name: 'ip_address', type: 'varchar', length: 64, nullable: true })
  ipAddress: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @Column({ type: 'jsonb' })
  details: Record<string, unknown>;

  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt: Date;
}
