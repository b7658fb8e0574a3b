import { Jwks } from '../../application/ports/access-token.port';

/**
 * The public keys that verify this service's access tokens, as a JSON Web Key Set, for services
 * that verify tokens offline (serve it at `/.well-known/jwks.json`). Empty with the default HS256
 * signer: a shared secret is never published. Holds public keys only.
 */
export class AccessTokenKeys {
  constructor(private readonly set: Jwks) {}

  jwks(): Jwks {
    return this.set;
  }
}
