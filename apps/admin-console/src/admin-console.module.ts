import { CoreModule, DEFAULT_ADMIN_CONSOLE, HealthController, hostProviders, Runtime } from '@app/runtime';
import { AccessTokenGuard, AdminGuard } from '@app/sessions';
import { DynamicModule, Module } from '@nestjs/common';
import { AdminController } from './admin.controller';
import { AuditController } from './audit/audit.controller';
import { ConsoleAuthController } from './console-auth/console-auth.controller';
import { ConsoleGuard } from './console-auth/console.guard';
import { ConsoleCsrfTokens } from './console-auth/csrf-tokens';
import { REAUTH_WINDOW_SECONDS, StepUp } from './console-auth/step-up';
import { AccessTokenLifetime } from './sessions/access-token-lifetime';
import { OverviewController } from './overview.controller';
import { UsersController } from './users.controller';

/** The internal admin console: any user's sessions, forced revocation, the audit trail. */
@Module({})
export class AdminConsoleModule {
  static forRoot(runtime: Runtime): DynamicModule {
    return {
      module: AdminConsoleModule,
      imports: [CoreModule.forRoot(runtime, { app: 'admin' })],
      controllers: [ConsoleAuthController, AdminController, AuditController, UsersController, OverviewController, HealthController],
      providers: [
        ...hostProviders(runtime),
        { provide: ConsoleCsrfTokens, useValue: new ConsoleCsrfTokens(runtime.settings.sessions.accessTokenSecret) },
        { provide: REAUTH_WINDOW_SECONDS, useValue: (runtime.settings.adminConsole ?? DEFAULT_ADMIN_CONSOLE).reauthWindowSeconds },
        StepUp,
        // The library's two guards, which ConsoleGuard runs for a Bearer token and for the role.
        AccessTokenGuard,
        AdminGuard,
        ConsoleGuard,
        { provide: AccessTokenLifetime, useValue: AccessTokenLifetime.of(runtime) },
      ],
    };
  }
}
