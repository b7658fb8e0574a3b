import { USER_ROLES, type UserRole } from '@app/sessions';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

/** As the web API's login takes them (254: users.email; 128: the password policy's ceiling). */
const EMAIL_MAX_LENGTH = 254;
const PASSWORD_MAX_LENGTH = 128;

export class ConsoleLoginRequest {
  @ApiProperty({ example: 'admin@example.com', maxLength: EMAIL_MAX_LENGTH })
  @IsString()
  @Length(1, EMAIL_MAX_LENGTH)
  email: string;

  @ApiProperty({ maxLength: PASSWORD_MAX_LENGTH })
  @IsString()
  @Length(1, PASSWORD_MAX_LENGTH)
  password: string;
}

export class ReauthenticateRequest {
  @ApiProperty({ maxLength: PASSWORD_MAX_LENGTH, description: 'The signed-in administrator’s password' })
  @IsString()
  @Length(1, PASSWORD_MAX_LENGTH)
  password: string;
}

export class ConsoleUserView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() email: string;
  @ApiProperty({ enum: USER_ROLES }) role: UserRole;
}

export class ConsoleSessionResponse {
  @ApiProperty({ type: ConsoleUserView }) user: ConsoleUserView;
  @ApiProperty({ format: 'uuid' }) sessionId: string;
  @ApiProperty({ description: 'The console session’s absolute end (ADMIN_SESSION_TTL_SECONDS after sign-in; never extended)' }) expiresAt: Date;
  @ApiProperty({
    description:
      'Send it as the X-CSRF-Token header of every POST, PUT, PATCH and DELETE made with the cookie; keep it in memory only (GET /admin/auth/session answers it again)',
  })
  csrfToken: string;
  @ApiProperty({
    nullable: true,
    type: Date,
    description: 'Until when actions on another administrator or on several users are allowed without entering the password again (the sign-in counts)',
  })
  reauthenticatedUntil: Date | null;
  @ApiProperty({
    description:
      'The lifetime of an access token (ACCESS_TOKEN_TTL_SECONDS): a session ended now had its last access token expire on its own within this many seconds; a revocation refuses it at once',
  })
  accessTokenTtlSeconds: number;
}

export class ReauthenticatedResponse {
  @ApiProperty({ description: 'Until when actions on another administrator or on several users are allowed' }) reauthenticatedUntil: Date;
}
