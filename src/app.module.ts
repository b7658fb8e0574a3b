import { CoreModule, HealthController, hostProviders, Runtime } from '@app/runtime';
import { DynamicModule, Module } from '@nestjs/common';
import { AccountEmails } from './auth/account-emails';
import { AuthController } from './auth/auth.controller';
import { JwksController } from './auth/jwks.controller';
import { RevocationController } from './oauth/revocation.controller';
import { TokenRevocation } from './oauth/token-revocation';
import { RevocationsController } from './revocations/revocations.controller';
import { SERVICE_CLIENTS, ServiceClientGuard } from './revocations/service-client.guard';

/** The web API: sign-in, refresh, logout, the caller's own sessions, RFC 7009 revocation and the revocation feed. */
@Module({})
export class WebApiModule {
  static forRoot(runtime: Runtime): DynamicModule {
    return {
      module: WebApiModule,
      imports: [CoreModule.forRoot(runtime, { app: 'web' })],
      controllers: [AuthController, JwksController, RevocationController, RevocationsController, HealthController],
      providers: [
        ...hostProviders(runtime),
        AccountEmails,
        TokenRevocation,
        ServiceClientGuard,
        { provide: SERVICE_CLIENTS, useValue: runtime.settings.serviceClients ?? [] },
      ],
    };
  }
}
