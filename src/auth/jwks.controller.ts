import { AccessTokenKeys, type Jwks } from '@app/sessions';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

/**
 * The public keys that verify this service's access tokens (RFC 7517), for services that verify
 * them offline. Empty `keys` with the default HS256 signer. Cached for 5 minutes: a verifier
 * that meets an unknown `kid` refetches, so a new key is found at once, and a previous key stays
 * published (accessTokenKeys.previousPublicKeys) for as long as its tokens live.
 */
@ApiTags('auth')
@Controller('.well-known')
export class JwksController {
  constructor(private readonly keys: AccessTokenKeys) {}

  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'The JSON Web Key Set that verifies access tokens (empty with HS256)' })
  @ApiOkResponse({ description: '`{ keys: [{ kty, crv, x, y?, kid, alg, use: "sig" }] }`' })
  jwks(): Jwks {
    return this.keys.jwks();
  }
}
