import { MaxStoredLength } from '@app/platform';
import { emailProblem, normalizeEmail, PASSWORD_RESET_TOKEN_PATTERN, REFRESH_TOKEN_PATTERN } from '@app/sessions';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { buildMessage, IsBoolean, IsEmail, IsOptional, IsString, Length, Matches, ValidateBy } from 'class-validator';

/** Refuses an email the sessions library would refuse (emailProblem: invisible, bidi, mixed scripts), saying why. */
function IsAcceptableEmail(): PropertyDecorator {
  return ValidateBy({
    name: 'isAcceptableEmail',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || emailProblem(value) === null,
      defaultMessage: buildMessage((_each, args) => `email ${emailProblem(String(args?.value)) ?? 'is not acceptable'}`),
    },
  });
}

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;
const PASSWORD_POLICY =
  'Any Unicode, spaces included, 8 to 128 characters; refused (400, saying why): common or breached passwords, repetition and simple runs, and passwords based on the email';

export class RegisterRequest {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @IsEmail({}, { message: 'email must be an email address' })
  @IsAcceptableEmail()
  // users.email is varchar(254) and holds the email as the sessions library normalizes it (NFKC,
  // lower case, IDNA domain), which can lengthen it ('İ' becomes two characters, 'ü' a punycode label).
  @MaxStoredLength(254, normalizeEmail)
  email: string;

  @ApiProperty({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH, description: PASSWORD_POLICY })
  @IsString()
  @Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH)
  password: string;
}

export class LoginRequest {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @IsString()
  @Length(1, 254)
  @IsAcceptableEmail()
  email: string;

  @ApiProperty({ maxLength: PASSWORD_MAX_LENGTH })
  @IsString()
  @Length(1, PASSWORD_MAX_LENGTH)
  password: string;
}

export class RefreshTokenRequest {
  @ApiProperty({ description: 'The refresh token from login or the last refresh (43 base64url characters)' })
  @IsString()
  @Matches(REFRESH_TOKEN_PATTERN, { message: 'refreshToken must be a refresh token issued by this service (43 base64url characters)' })
  refreshToken: string;
}

export class RevokeAllRequest {
  @ApiPropertyOptional({ default: false, description: 'Keep the session making this request signed in' })
  @IsOptional()
  @IsBoolean()
  keepCurrent?: boolean;
}

export class ChangePasswordRequest {
  @ApiProperty({ maxLength: PASSWORD_MAX_LENGTH })
  @IsString()
  @Length(1, PASSWORD_MAX_LENGTH)
  currentPassword: string;

  @ApiProperty({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH, description: PASSWORD_POLICY })
  @IsString()
  @Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH)
  newPassword: string;
}

export class ResetPasswordRequest {
  @ApiProperty({ description: 'The one-time token an administrator issued (43 base64url characters)' })
  @IsString()
  @Matches(PASSWORD_RESET_TOKEN_PATTERN, { message: 'resetToken must be a reset token issued by this service (43 base64url characters)' })
  resetToken: string;

  @ApiProperty({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH })
  @IsString()
  @Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH)
  newPassword: string;
}

export class TokenPairResponse {
  @ApiProperty() accessToken: string;
  @ApiProperty() refreshToken: string;
  @ApiProperty({ example: 'Bearer' }) tokenType: 'Bearer';
  @ApiProperty({ description: 'Access token lifetime in seconds', example: 900 }) expiresIn: number;
  @ApiProperty({ format: 'uuid' }) sessionId: string;
}

export class RegisteredResponse {
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty() email: string;
}

export class MeResponse {
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty() email: string;
  @ApiProperty({ format: 'uuid' }) sessionId: string;
}

export class SessionView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() createdAt: Date;
  @ApiProperty() lastSeenAt: Date;
  @ApiProperty({ nullable: true, type: String }) ipAddress: string | null;
  @ApiProperty({ nullable: true, type: String }) userAgent: string | null;
  @ApiProperty({ description: 'The session making this request' }) current: boolean;
}

export class SessionListResponse {
  @ApiProperty({ type: [SessionView] }) sessions: SessionView[];
}

/** AccessTokenJwk as OpenAPI shows it. */
export class JsonWebKeyView {
  @ApiProperty({ enum: ['OKP', 'EC'] }) kty: 'OKP' | 'EC';
  @ApiProperty({ enum: ['Ed25519', 'P-256'] }) crv: 'Ed25519' | 'P-256';
  @ApiProperty({ description: 'The public key (base64url)' }) x: string;
  @ApiPropertyOptional({ description: 'EC keys only (base64url)' }) y?: string;
  @ApiProperty({ description: 'The `kid` of the tokens this key verifies' }) kid: string;
  @ApiProperty({ enum: ['EdDSA', 'ES256'] }) alg: 'EdDSA' | 'ES256';
  @ApiProperty({ enum: ['sig'] }) use: 'sig';
}

export class JwksResponse {
  @ApiProperty({ type: [JsonWebKeyView], description: 'Empty with the default HS256 signer' }) keys: JsonWebKeyView[];
}
