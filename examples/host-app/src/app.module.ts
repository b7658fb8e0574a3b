// #region readme
import { SessionsModule } from '@app/sessions';
import KeyvRedis from '@keyv/redis';
import { CacheModule } from '@nestjs/cache-manager';
import { DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Keyv } from 'keyv';
import { AccountsModule } from './accounts/accounts.module';
import { HostConfig } from './host-config';

/** What the host provides the library (CQRS buses, a DataSource, a Redis cache), the library, and the host's own feature. */
@Module({})
export class AppModule {
  static forRoot(config: HostConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        TypeOrmModule.forRoot({ type: 'postgres', url: config.databaseUrl }),
        // keyv's CommonJS and ESM typings each declare a Keyv class; @nestjs/cache-manager (ESM) recognises a Keyv by its shape.
        CacheModule.register({ isGlobal: true, stores: [new Keyv(new KeyvRedis(config.redisUrl)) as never] }),
        SessionsModule.forRoot({ isGlobal: true, accessTokenSecret: config.accessTokenSecret, cacheKeyPrefix: config.cacheKeyPrefix }),
        AccountsModule,
      ],
    };
  }
}
// #endregion readme
