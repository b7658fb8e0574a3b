import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { OAUTH_ERROR_CODES, type OAuthErrorCode } from '../oauth-error';
import { TOKEN_TYPE_HINTS, type TokenTypeHint } from '../token-revocation';

/** OpenAPI's view of the form RFC 7009 §2.1 defines; the controller reads the fields itself (OAuth errors, not the pipe's problems). */
@ApiSchema({ name: 'TokenRevocationRequest', description: 'RFC 7009 §2.1, sent as application/x-www-form-urlencoded; other fields (`client_id`) are ignored' })
export class TokenRevocationRequest {
  @ApiProperty({ description: 'The refresh token or access token to revoke' })
  token: string;

  @ApiPropertyOptional({
    enum: TOKEN_TYPE_HINTS,
    description: 'Which kind the token is, to look it up as that first; a wrong hint only changes the order. Any other value: 400 `unsupported_token_type`',
  })
  token_type_hint?: TokenTypeHint;
}

@ApiSchema({ name: 'OAuthError', description: 'An RFC 6749 §5.2 error response (application/json, not a problem)' })
export class OAuthErrorResponse {
  @ApiProperty({
    enum: OAUTH_ERROR_CODES,
    description: '`invalid_request`: `token` missing, or a field sent twice; `unsupported_token_type`: a `token_type_hint` this server does not revoke',
  })
  error: OAuthErrorCode;

  @ApiPropertyOptional({ description: 'What was wrong, for a developer to read', example: 'The token parameter is required' })
  error_description?: string;
}
