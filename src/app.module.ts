import { CoreModule, HealthController, hostProviders, Runtime } from '@app/runtime';
import { DynamicModule, Module } from '@nestjs/common';
import { AccountEmails } from './auth/account-emails';
import { AuthController } from './auth/auth.controller';
import { JwksController } from './auth/jwks.controller';

/** The web API: sign-in, refresh, logout and the caller's own sessions. */
@Module({})
export class WebApiModule {
  static forRoot(runtime: Runtime): DynamicModule {
    return {
      module: WebApiModule,
      imports: [CoreModule.forRoot(runtime, { app: 'web' })],
      controllers: [AuthController, JwksController, HealthController],
      providers: [...hostProviders(runtime), AccountEmails],
    };
  }
}
