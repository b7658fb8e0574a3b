import {
  ADMIN_REASON_MAX_LENGTH,
  ADMIN_REASON_MIN_LENGTH,
  AUDIT_ACTIONS,
  AUDIT_OUTCOMES,
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
import { RevocationReceiptResponse } from '@app/runtime';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  buildMessage,
  IsArray,
  IsIn,
  IsInt,
  IsIP,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateBy,
} from 'class-validator';

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

/** A receipt whose instants are null when no revocation ran (an unknown user). */
class NullableReceipt {
  @ApiProperty({ type: [String], format: 'uuid', description: 'Exactly the sessions ended; [] when none' }) sessionIds: string[];
  @ApiProperty({ nullable: true, type: Date, description: 'The instant written as their revocation time; null when no user was found' })
  effectiveAt: Date | null;
  @ApiProperty({
    nullable: true,
    type: Date,
    description: 'No access token of those sessions is valid by its own `exp` after this (an upper bound); null when no user was found',
  })
  accessTokensValidUntil: Date | null;
}

export class BulkRevokeResult extends NullableReceipt {
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty({ description: 'false: no user with this id (the attempt is audited); its receipt then ends nothing, and its instants are null' })
  found: boolean;
  @ApiProperty({ description: 'Sessions of this user ended (sessionIds.length)' }) revokedCount: number;
}

/** The results, and the whole as one receipt: every session ended, from the latest instant of the results, until the latest bound. */
export class BulkRevokeAllResponse extends NullableReceipt {
  @ApiProperty({ type: [BulkRevokeResult], description: 'One per user, in the order given, each the receipt of its own revoke-all' })
  results: BulkRevokeResult[];
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

/** An ISO 8601 instant: a date, a time and an offset (`Z` or `±hh:mm`), e.g. 2026-12-01T09:30:00Z. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** A date without an offset would be read in the server's time zone, and 2026-02-30 would roll over: both refused. */
function IsInstant(): PropertyDecorator {
  return ValidateBy({
    name: 'isInstant',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && INSTANT.test(value) && isRealDate(value),
      defaultMessage: buildMessage((each) => `${each}$property must be an ISO 8601 instant with an offset, e.g. 2026-12-01T09:30:00Z`),
    },
  });
}

/** Date.parse rolls 02-30 over to 03-02; the date part must survive the round trip. */
function isRealDate(value: string): boolean {
  const [year, month, day] = value.slice(0, 10).split('-').map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return !Number.isNaN(Date.parse(value)) && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** `to` after `from` (when both are valid instants; each one's own rule reports it otherwise). */
function IsAfterFrom(): PropertyDecorator {
  return ValidateBy({
    name: 'isAfterFrom',
    validator: {
      validate: (value: unknown, args) => {
        const from = (args?.object as { from?: unknown }).from;
        if (typeof value !== 'string' || typeof from !== 'string') return true;
        const [start, end] = [Date.parse(from), Date.parse(value)];
        return Number.isNaN(start) || Number.isNaN(end) || end > start;
      },
      defaultMessage: buildMessage(() => 'to must be later than from'),
    },
  });
}

/** The filters of GET /admin/audit and of its export; each set one must hold. */
export class AuditFilterParams {
  @ApiPropertyOptional({ format: 'uuid', description: 'Whole operations (Attempted and outcome) that concern this user' })
  @IsOptional()
  @IsUUID('all', { message: 'userId must be a UUID' })
  userId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Entries whose actor is this user or administrator' })
  @IsOptional()
  @IsUUID('all', { message: 'actorId must be a UUID' })
  actorId?: string;

  @ApiPropertyOptional({ enum: AUDIT_ACTIONS })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS as AuditAction[], { message: `action must be one of: ${AUDIT_ACTIONS.join(', ')}` })
  action?: AuditAction;

  @ApiPropertyOptional({ enum: AUDIT_OUTCOMES })
  @IsOptional()
  @IsIn(AUDIT_OUTCOMES as AuditOutcome[], { message: `outcome must be one of: ${AUDIT_OUTCOMES.join(', ')}` })
  outcome?: AuditOutcome;

  @ApiPropertyOptional({ description: 'The client address recorded (IPv4 or IPv6; any spelling of an IPv6 address, an IPv4-mapped one as IPv4)' })
  @IsOptional()
  @IsIP(undefined, { message: 'ipAddress must be an IPv4 or IPv6 address' })
  ipAddress?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Entries about this session' })
  @IsOptional()
  @IsUUID('all', { message: 'sessionId must be a UUID' })
  sessionId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The entries of one operation' })
  @IsOptional()
  @IsUUID('all', { message: 'correlationId must be a UUID' })
  correlationId?: string;

  @ApiPropertyOptional({ pattern: REQUEST_ID_PATTERN.source, maxLength: 128, description: 'The entries of the commands one request caused (its X-Request-Id)' })
  @IsOptional()
  @Matches(REQUEST_ID_PATTERN, { message: 'requestId must be 1 to 128 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-"' })
  requestId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries that occurred at or after this instant (ISO 8601 with an offset)' })
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries that occurred before this instant (exclusive; later than from)' })
  @IsOptional()
  @IsInstant()
  @IsAfterFrom()
  to?: string;
}

export class AuditQueryParams extends AuditFilterParams {
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

export const AUDIT_EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

export class AuditExportParams extends AuditFilterParams {
  @ApiProperty({ enum: AUDIT_EXPORT_FORMATS, description: 'ndjson: one JSON entry a line; csv: RFC 4180 with a header row, details as a JSON column' })
  @IsIn(AUDIT_EXPORT_FORMATS, { message: `format must be one of: ${AUDIT_EXPORT_FORMATS.join(', ')}` })
  format: AuditExportFormat;
}

export class DeviceView {
  @ApiProperty({ nullable: true, type: String, description: 'Browser name and major version, e.g. "Chrome 120"', example: 'Chrome 120' }) browser:
    string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Operating system name and version, e.g. "Windows 10"', example: 'Windows 10' }) os: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'mobile, tablet, smarttv, wearable, console, embedded or xr; null for a desktop browser or an unknown client',
  })
  type: string | null;
}

export class AdminSessionView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() createdAt: Date;
  @ApiProperty() lastSeenAt: Date;
  @ApiProperty() expiresAt: Date;
  @ApiProperty({ nullable: true, type: String }) ipAddress: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'As the client sent it; render it as text' }) userAgent: string | null;
  @ApiProperty({ type: DeviceView, description: 'The User-Agent as ua-parser-js 1.0 reads it' }) device: DeviceView;
  @ApiProperty({ description: "Whether this is the calling administrator's own session" }) current: boolean;
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

export class PasswordResetIssuedResponse extends RevocationReceiptResponse {
  @ApiProperty({ description: 'One-time token for POST /auth/password/reset on the web API; shown only here, hand it to the user' })
  resetToken: string;
  @ApiProperty({ description: 'When the reset token expires' }) expiresAt: Date;
}
