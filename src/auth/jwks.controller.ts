import { AccessTokenKeys, type Jwks } from '@app/sessions';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { JwksResponse } from './dto/auth.dto';

/**
 * The public keys that verify this service's access tokens (RFC 7517), for services that verify
 * them offline. Empty `keys` with the default HS256 signer. Cached for 5 minutes: a verifier
 * that meets an unknown `kid` refetches, so a new key is found at once, and a previous key stays
 * published (accessTokenKeys.previousPublicKeys) for as long as its tokens live.
 */
@ApiTags('keys')
@Controller('.well-known')
export class JwksController {
  constructor(private readonly keys: AccessTokenKeys) {}

  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'The JSON Web Key Set that verifies access tokens (empty with HS256)' })
  @ApiOkResponse({
    type: JwksResponse,
    description: 'The public keys, cacheable for 5 minutes',
    headers: { 'Cache-Control': { schema: { type: 'string', example: 'public, max-age=300' } } },
  })
  jwks(): Jwks {
    return this.keys.jwks();
  }
}
