import { USER_ROLES, USER_STATUSES, type UserRole, type UserStatus } from '@app/sessions';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateBy } from 'class-validator';
import { decodeUserCursor, USER_CURSOR_MAX_LENGTH } from '../user-cursor';

export const USER_PAGE_MAX = 100;
export const USER_PAGE_DEFAULT = 25;
/** As long as a stored email may be. */
export const USER_QUERY_MAX_LENGTH = 254;

export class UserListQuery {
  @ApiPropertyOptional({
    maxLength: USER_QUERY_MAX_LENGTH,
    description: 'An exact user id (UUID), or the start of an email, case-insensitive (`%`, `_` and `\\` match themselves)',
    example: 'alice@',
  })
  @IsOptional()
  @IsString({ message: 'query must be a string' })
  @MaxLength(USER_QUERY_MAX_LENGTH)
  query?: string;

  @ApiPropertyOptional({ enum: USER_STATUSES, description: 'Only users in this status (disabled wins over locked)' })
  @IsOptional()
  @IsIn(USER_STATUSES as UserStatus[], { message: `status must be one of: ${USER_STATUSES.join(', ')}` })
  status?: UserStatus;

  @ApiPropertyOptional({ minimum: 1, maximum: USER_PAGE_MAX, default: USER_PAGE_DEFAULT })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(USER_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ maxLength: USER_CURSOR_MAX_LENGTH, description: 'nextCursor of the previous page (with the same query and status)' })
  @IsOptional()
  @ValidateBy({
    name: 'userCursor',
    validator: {
      validate: (value: unknown) => decodeUserCursor(value) !== null,
      defaultMessage: () => 'cursor must be a nextCursor value returned by this endpoint',
    },
  })
  cursor?: string;
}

export class UserView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'As stored: normalized (NFKC, lower case, the domain in its IDNA ASCII form)' }) email: string;
  @ApiProperty({ enum: USER_ROLES }) role: UserRole;
  @ApiProperty({ enum: USER_STATUSES, description: 'disabled wins over locked; locked: some network is locked out of the email' }) status: UserStatus;
  @ApiProperty({ nullable: true, type: Date, description: 'When the latest login lockout of the email in force ends' }) lockedUntil: Date | null;
  @ApiProperty() passwordResetRequired: boolean;
  @ApiProperty() createdAt: Date;
  @ApiProperty({ nullable: true, type: Date, description: 'When the newest session was opened' }) lastLoginAt: Date | null;
  @ApiProperty({ description: 'Unrevoked, unexpired sessions' }) activeSessions: number;
}

export class UserListResponse {
  @ApiProperty({ type: [UserView] }) users: UserView[];
  @ApiProperty({ nullable: true, type: String, description: 'The cursor of the next page; null on the last' }) nextCursor: string | null;
}
