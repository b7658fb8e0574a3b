import { Provider } from '@nestjs/common';
import { ACCESS_TOKENS } from '../../application/ports/access-token.port';
import { Clock, CLOCK } from '../../application/ports/clock.port';
import { PASSWORD_HASHER } from '../../application/ports/password-hasher.port';
import { SESSIONS_OPTIONS, ResolvedSessionsOptions } from '../../sessions.options';
import { Argon2PasswordHasher } from './argon2-password-hasher';
import { JwtAccessTokens } from './jwt-access-tokens';

/** The password hasher and the access-token signer. */
export const SECURITY_PROVIDERS: Provider[] = [
  { provide: PASSWORD_HASHER, inject: [SESSIONS_OPTIONS], useFactory: (o: ResolvedSessionsOptions) => new Argon2PasswordHasher(o.passwordHashing) },
  {
    provide: ACCESS_TOKENS,
    inject: [SESSIONS_OPTIONS, CLOCK],
    useFactory: (o: ResolvedSessionsOptions, clock: Clock) => new JwtAccessTokens(o.accessTokenSecret, o.lifetimes.accessTokenTtlSeconds, clock),
  },
];
