import type { Runtime } from '@app/runtime';
import { SESSIONS_DEFAULTS } from '@app/sessions';

/**
 * The web API's access-token lifetime, which the console session's answer carries (accessTokenTtlSeconds). A
 * revocation's answer no longer derives anything from it: the commands answer their receipts.
 */
export class AccessTokenLifetime {
  constructor(readonly seconds: number) {}

  static of(runtime: Runtime): AccessTokenLifetime {
    return new AccessTokenLifetime(runtime.settings.sessions.lifetimes?.accessTokenTtlSeconds ?? SESSIONS_DEFAULTS.lifetimes.accessTokenTtlSeconds);
  }
}
