import { type AuthenticatedSession, SessionAuthenticator, SessionDirectory, SESSIONS_DEFAULTS } from '@app/sessions';
import { Provider } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import type { RuntimeSettings } from '../runtime-settings';

/**
 * BENCHMARKS ONLY (BENCHMARK_AUTH_CHECK, refused in production). `session` is the library's own
 * check and the only one the apps otherwise run; `signature-only` checks the token's signature
 * and expiry and nothing else; `no-cache` also asks PostgreSQL whether the session is active, on
 * every request, without the cache. They exist to measure what the session check costs.
 */
export const AUTH_CHECK_MODES = ['session', 'signature-only', 'no-cache'] as const;
export type AuthCheckMode = (typeof AUTH_CHECK_MODES)[number];

/**
 * The providers a host module adds so that every guard it instantiates (AccessTokenGuard and
 * the rate-limit guard resolve SessionAuthenticator from the host module first) uses the
 * benchmark's check instead of the library's; none in `session` mode.
 */
export function benchmarkAuthCheckProviders(settings: RuntimeSettings): Provider[] {
  const mode = settings.benchmarkAuthCheck ?? 'session';
  if (mode === 'session') return [];
  const secret = settings.sessions.accessTokenSecret;
  const ttlSeconds = settings.sessions.lifetimes?.accessTokenTtlSeconds ?? SESSIONS_DEFAULTS.lifetimes.accessTokenTtlSeconds;
  return [
    {
      provide: SessionAuthenticator,
      inject: [SessionDirectory],
      useFactory: (directory: SessionDirectory) => new BenchmarkAuthenticator(mode, secret, ttlSeconds, directory),
    },
  ];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface AccessTokenPayload {
  readonly sub?: unknown;
  readonly sid?: unknown;
}

/** Answers `authenticate` as the library's SessionAuthenticator does, minus the parts a mode leaves out. */
class BenchmarkAuthenticator {
  private readonly jwt: JwtService;

  constructor(
    private readonly mode: Exclude<AuthCheckMode, 'session'>,
    secret: string,
    ttlSeconds: number,
    private readonly directory: SessionDirectory,
  ) {
    // A KeyObject, as the library verifies with: a string key is re-parsed as PEM on every call.
    const key = createSecretKey(Buffer.from(secret, 'utf8'));
    this.jwt = new JwtService({ secretOrKeyProvider: () => key, signOptions: { expiresIn: ttlSeconds }, verifyOptions: { algorithms: ['HS256'] } });
  }

  async authenticate(accessToken: string): Promise<AuthenticatedSession | null> {
    const claims = await this.verifySignature(accessToken);
    if (!claims || this.mode === 'signature-only') return claims;
    const session = await this.directory.findSession(claims.sessionId);
    const active = session !== null && session.userId === claims.userId && session.revokedAt === null && session.expiresAt.getTime() > Date.now();
    return active ? claims : null;
  }

  private async verifySignature(token: string): Promise<AuthenticatedSession | null> {
    try {
      const payload = await this.jwt.verifyAsync<AccessTokenPayload>(token);
      const { sub, sid } = payload;
      return typeof sub === 'string' && typeof sid === 'string' && UUID.test(sub) && UUID.test(sid) ? { userId: sub, sessionId: sid } : null;
    } catch {
      return null;
    }
  }
}
