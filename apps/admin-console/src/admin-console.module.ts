import { CoreModule, HealthController, hostProviders, Runtime } from '@app/runtime';
import { DynamicModule, Module } from '@nestjs/common';
import { AdminController } from './admin.controller';

/** The internal admin console: any user's sessions, forced revocation, the audit trail. */
@Module({})
export class AdminConsoleModule {
  static forRoot(runtime: Runtime): DynamicModule {
    return {
      module: AdminConsoleModule,
      imports: [CoreModule.forRoot(runtime, { app: 'admin' })],
      controllers: [AdminController, HealthController],
      providers: hostProviders(runtime),
    };
  }
}
