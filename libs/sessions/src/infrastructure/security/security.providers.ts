import { Provider } from '@nestjs/common';
import { ACCESS_TOKENS } from '../../application/ports/access-token.port';
import { Clock, CLOCK } from '../../application/ports/clock.port';
import { PASSWORD_HASHER } from '../../application/ports/password-hasher.port';
import { SessionsConfigurationError } from '../../domain/sessions-error';
import { SESSIONS_OPTIONS, ResolvedSessionsOptions } from '../../sessions.options';
import { AccessTokenKeyring } from './access-token-keyring';
import { AccessTokenKeys } from './access-token-keys';
import { Argon2PasswordHasher } from './argon2-password-hasher';
import { AsymmetricJwtAccessTokens } from './asymmetric-jwt-access-tokens';
import { JwtAccessTokens } from './jwt-access-tokens';

/** The parsed asymmetric keys, or null for HS256. Internal: it holds the private key. */
const ACCESS_TOKEN_KEYRING = Symbol('AccessTokenKeyring');

/**
 * The password hasher and the access-token signer, each the host's choice (see
 * `passwordHasher` and `accessTokenKeys` in the options), and the JWKS of the signer.
 */
export const SECURITY_PROVIDERS: Provider[] = [
  {
    provide: PASSWORD_HASHER,
    inject: [SESSIONS_OPTIONS],
    useFactory: (o: ResolvedSessionsOptions) => o.passwordHasher ?? new Argon2PasswordHasher(o.passwordHashing),
  },
  {
    provide: ACCESS_TOKEN_KEYRING,
    inject: [SESSIONS_OPTIONS],
    useFactory: (o: ResolvedSessionsOptions): AccessTokenKeyring | null => (o.accessTokenKeys ? AccessTokenKeyring.fromOptions(o.accessTokenKeys) : null),
  },
  {
    provide: ACCESS_TOKENS,
    inject: [SESSIONS_OPTIONS, CLOCK, ACCESS_TOKEN_KEYRING],
    useFactory: (o: ResolvedSessionsOptions, clock: Clock, keyring: AccessTokenKeyring | null) => {
      const ttl = o.lifetimes.accessTokenTtlSeconds;
      if (keyring) return new AsymmetricJwtAccessTokens(keyring, ttl, clock);
      if (!o.accessTokenSecret) throw new SessionsConfigurationError('accessTokenSecret (HS256) or accessTokenKeys (EdDSA, ES256) is required');
      return new JwtAccessTokens(o.accessTokenSecret, ttl, clock);
    },
  },
  {
    provide: AccessTokenKeys,
    inject: [ACCESS_TOKEN_KEYRING],
    useFactory: (keyring: AccessTokenKeyring | null) => new AccessTokenKeys(keyring?.jwks ?? Object.freeze({ keys: Object.freeze([]) })),
  },
];
