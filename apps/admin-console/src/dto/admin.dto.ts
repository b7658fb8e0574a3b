import {
  ADMIN_REASON_MAX_LENGTH,
  ADMIN_REASON_MIN_LENGTH,
  AUDIT_ACTIONS,
  type AuditAction,
  type AuditOutcome,
  type ActorType,
  REQUEST_ID_PATTERN,
  USER_ROLES,
  type UserRole,
} from '@app/sessions';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { MaxStoredLength } from '@app/platform';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, Min, MinLength } from 'class-validator';

export const AUDIT_PAGE_MAX = 200;
export const AUDIT_PAGE_DEFAULT = 50;

export class AdminReasonRequest {
  @ApiProperty({ minLength: ADMIN_REASON_MIN_LENGTH, maxLength: ADMIN_REASON_MAX_LENGTH, example: 'Credential stuffing detected from 203.0.113.7' })
  @IsString()
  @MinLength(ADMIN_REASON_MIN_LENGTH)
  // Counted as the reason columns (varchar(200)) count it.
  @MaxStoredLength(ADMIN_REASON_MAX_LENGTH)
  reason: string;
}

export class AdminRevokeAllRequest extends AdminReasonRequest {
  @ApiPropertyOptional({ format: 'uuid', description: 'A session of the user to leave alive' })
  @IsOptional()
  @IsUUID('all', { message: 'keepSessionId must be a UUID' })
  keepSessionId?: string;
}

/** At most this many users in one bulk action. */
export const BULK_USERS_MAX = 100;

export class BulkRevokeAllRequest extends AdminRevokeAllRequest {
  @ApiProperty({ type: [String], format: 'uuid', minItems: 1, maxItems: BULK_USERS_MAX, uniqueItems: true, description: 'The users whose sessions end' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BULK_USERS_MAX)
  @ArrayUnique({ message: 'userIds must not repeat a user' })
  @IsUUID('all', { each: true, message: 'each of userIds must be a UUID' })
  userIds: string[];
}

export class BulkRevokeResult {
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty({ description: 'false: no user with this id (the attempt is audited)' }) found: boolean;
  @ApiProperty() revokedCount: number;
}

export class BulkRevokeAllResponse {
  @ApiProperty({ type: [BulkRevokeResult], description: 'One per user, in the order given' }) results: BulkRevokeResult[];
  @ApiProperty({ description: 'Sessions ended in all' }) revokedCount: number;
}

export class ChangeRoleRequest extends AdminReasonRequest {
  @ApiProperty({ enum: USER_ROLES })
  @IsIn(USER_ROLES as UserRole[], { message: `role must be one of: ${USER_ROLES.join(', ')}` })
  role: UserRole;
}

export class RoleChangedResponse {
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty({ enum: USER_ROLES }) role: UserRole;
  @ApiProperty({ enum: USER_ROLES }) previousRole: UserRole;
}

export class UserSessionsQuery {
  @ApiPropertyOptional({ enum: ['revoked'], description: 'Also list revoked and expired sessions' })
  @IsOptional()
  @IsIn(['revoked'], { message: 'include must be "revoked"' })
  include?: 'revoked';
}

export class AuditQueryParams {
  @ApiPropertyOptional({ format: 'uuid', description: 'Whole operations (Attempted and outcome) that concern this user' })
  @IsOptional()
  @IsUUID('all', { message: 'userId must be a UUID' })
  userId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The entries of one operation' })
  @IsOptional()
  @IsUUID('all', { message: 'correlationId must be a UUID' })
  correlationId?: string;

  @ApiPropertyOptional({ pattern: REQUEST_ID_PATTERN.source, maxLength: 128, description: 'The entries of the commands one request caused (its X-Request-Id)' })
  @IsOptional()
  @Matches(REQUEST_ID_PATTERN, { message: 'requestId must be 1 to 128 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-"' })
  requestId?: string;

  @ApiPropertyOptional({ enum: AUDIT_ACTIONS })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS as AuditAction[], { message: `action must be one of: ${AUDIT_ACTIONS.join(', ')}` })
  action?: AuditAction;

  @ApiPropertyOptional({ minimum: 1, maximum: AUDIT_PAGE_MAX, default: AUDIT_PAGE_DEFAULT })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(AUDIT_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsUUID('all', { message: 'cursor must be a nextCursor value returned by this endpoint' })
  cursor?: string;
}

export class AdminSessionView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() createdAt: Date;
  @ApiProperty() lastSeenAt: Date;
  @ApiProperty() expiresAt: Date;
  @ApiProperty({ nullable: true, type: String }) ipAddress: string | null;
  @ApiProperty({ nullable: true, type: String }) userAgent: string | null;
  @ApiPropertyOptional({ nullable: true, type: Date }) revokedAt?: Date | null;
  @ApiPropertyOptional({ nullable: true, type: String }) revokedReason?: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'uuid' }) revokedBy?: string | null;
}

export class AdminSessionListResponse {
  @ApiProperty({ type: [AdminSessionView] }) sessions: AdminSessionView[];
}

export class AuditEntryView {
  @ApiProperty({ format: 'uuid' }) eventId: string;
  @ApiProperty({ format: 'uuid' }) correlationId: string;
  @ApiProperty({ enum: AUDIT_ACTIONS }) action: AuditAction;
  @ApiProperty({ enum: ['attempted', 'succeeded', 'failed'] }) outcome: AuditOutcome;
  @ApiProperty() occurredAt: Date;
  @ApiProperty({ nullable: true, type: String }) userId: string | null;
  @ApiProperty({ enum: ['user', 'admin', 'system', 'service'] }) actorType: ActorType;
  @ApiProperty({ nullable: true, type: String }) actorId: string | null;
  @ApiProperty({ nullable: true, type: String, description: "The service's name when actorType is 'service'" }) actorName: string | null;
  @ApiProperty({ nullable: true, type: String }) sessionId: string | null;
  @ApiProperty({ nullable: true, type: String }) reason: string | null;
  @ApiProperty({ nullable: true, type: String }) ipAddress: string | null;
  @ApiProperty({ nullable: true, type: String }) userAgent: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The X-Request-Id of the request that caused the command; null when none did' }) requestId:
    string | null;
  @ApiProperty({ type: Object }) details: Record<string, unknown>;
}

export class AuditPageResponse {
  @ApiProperty({ type: [AuditEntryView] }) entries: AuditEntryView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class RevokedCountResponse {
  @ApiProperty() revokedCount: number;
}

export class PasswordResetIssuedResponse {
  @ApiProperty({ description: 'Sessions ended' }) revokedCount: number;
  @ApiProperty({ description: 'One-time token for POST /auth/password/reset on the web API; shown only here, hand it to the user' })
  resetToken: string;
  @ApiProperty() expiresAt: Date;
}
