import { ApiProblem, type FormFields } from '@app/platform';
import { RateLimited } from '@app/runtime';
import { ClientContext, type RequestContext } from '@app/sessions';
import { Body, Controller, HttpCode, HttpStatus, Post, UseFilters } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiConsumes, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { OAuthErrorResponse, TokenRevocationRequest } from './dto/revocation.dto';
import { OAuthError, OAuthErrorFilter } from './oauth-error';
import { isTokenTypeHint, TokenRevocation } from './token-revocation';

/** The route acceptJsonBodiesOnly lets take a form (web-api.ts passes it to createHttpApp). */
export const TOKEN_REVOCATION_ROUTE = '/oauth/revoke';

/**
 * RFC 7009 token revocation, for OAuth client libraries. No client authentication: this service
 * keeps no registry of OAuth clients, and the web app is a public client, so holding the token is
 * the credential (§2.1 allows it for public clients); a `client_id` sent along is ignored.
 */
@ApiTags('oauth')
@Controller('oauth')
@UseFilters(OAuthErrorFilter)
export class RevocationController {
  constructor(private readonly revocation: TokenRevocation) {}

  @Post('revoke')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Revoke a refresh or access token (RFC 7009): its session ends. 200 with no body for any token, known or not',
    description:
      'A form (`application/x-www-form-urlencoded`), not JSON. A refresh token ends its session as POST /auth/logout does; a valid access token ends its own session as DELETE /auth/sessions/{sessionId} would. An unknown, expired, malformed or already revoked token gets the same empty 200. Errors of the request are RFC 6749 §5.2 JSON (`{"error": ...}`); the others (413, 415, 429, 503) are problems.',
  })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiBody({ type: TokenRevocationRequest })
  @ApiOkResponse({ description: 'Revoked, or there was nothing to revoke: the body is empty either way' })
  @ApiExtraModels(OAuthErrorResponse)
  @ApiBadRequestResponse({ type: OAuthErrorResponse, description: '`invalid_request` (no `token`, or a field sent twice) or `unsupported_token_type`' })
  @ApiProblem(415, 'The body is not application/x-www-form-urlencoded')
  @ApiProblem(503)
  // Per client IP and per token (a SHA-256 prefix of it), as the logout and refresh are.
  @RateLimited('token')
  async revokeToken(@Body() body: FormFields | undefined, @ClientContext() context: RequestContext): Promise<void> {
    await this.revocation.revoke(revocationRequest(body), context);
  }
}

/** The request's two fields, or the OAuth error it gets. RFC 6749 §3.1: an empty field is an absent one, and none may be sent twice. */
/** The token to revoke; the hint is checked (§2.2.1) and otherwise moot: see TokenRevocation. */
function revocationRequest(body: FormFields | undefined): string {
  const field = (name: string): string | undefined => {
    const value = body?.[name];
    if (typeof value === 'string' || value === undefined) return value === '' ? undefined : value;
    throw new OAuthError('invalid_request', `The ${name} parameter must be sent once`);
  };
  const token = field('token');
  const hint = field('token_type_hint');
  if (token === undefined) throw new OAuthError('invalid_request', 'The token parameter is required');
  if (hint !== undefined && !isTokenTypeHint(hint)) throw new OAuthError('unsupported_token_type', 'This server revokes refresh_token and access_token only');
  return token;
}
