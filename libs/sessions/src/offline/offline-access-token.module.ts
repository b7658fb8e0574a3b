import { DynamicModule, Module } from '@nestjs/common';
import { OfflineAccessTokenGuard } from './offline-access-token.guard';
import { OFFLINE_ACCESS_TOKEN_OPTIONS, OfflineAccessTokenOptions, resolveOfflineOptions } from './offline-access-token.options';
import { OfflineRevocationList } from './offline-revocation-list';

/**
 * For another Nest service that accepts the sessions service's access tokens without calling it
 * per request: `OfflineAccessTokenModule.forRoot({ jwksUrl, feedUrl, serviceSecret })`, then
 * `@UseGuards(OfflineAccessTokenGuard)`. Needs no database and no Redis. The sessions service
 * must sign with EdDSA or ES256 (ACCESS_TOKEN_ALGORITHM) and list this service in SERVICE_CLIENTS.
 */
@Module({})
export class OfflineAccessTokenModule {
  static forRoot(options: OfflineAccessTokenOptions): DynamicModule {
    return {
      module: OfflineAccessTokenModule,
      global: true,
      providers: [{ provide: OFFLINE_ACCESS_TOKEN_OPTIONS, useValue: resolveOfflineOptions(options) }, OfflineRevocationList, OfflineAccessTokenGuard],
      // The options too: @UseGuards(OfflineAccessTokenGuard) builds the guard in the host's module.
      exports: [OFFLINE_ACCESS_TOKEN_OPTIONS, OfflineRevocationList, OfflineAccessTokenGuard],
    };
  }
}
