import type { TrustProxy } from '@app/platform';
import type { SessionsModuleOptions } from '@app/sessions';
import type { LoggerService } from '@nestjs/common';

export type CacheStoreKind = 'keyv-redis' | 'redis-yet';

/** Everything the composition root needs, already validated (see @app/platform's loadEnvironment). */
export interface RuntimeSettings {
  readonly database: {
    /** Absent: an embedded PGlite database is started in this process. */
    readonly url?: string;
    readonly poolSize: number;
    readonly statementTimeoutMs: number;
    /** Where the embedded database keeps its files; in memory when absent. */
    readonly embeddedDataDir?: string;
  };
  readonly cache: {
    /** Absent: an in-process cache (one instance only). */
    readonly redisUrl?: string;
    readonly store: CacheStoreKind;
  };
  readonly sessions: SessionsModuleOptions;
  readonly http: {
    readonly host: string;
    readonly bodyLimit: string;
    /** Express's `trust proxy` setting: false means the client IP is the socket's. */
    readonly trustProxy: TrustProxy;
  };
  readonly admin?: { readonly email: string; readonly password: string };
  /** Nest's logger for the apps (JSON lines in production). */
  readonly logger: LoggerService;
}
