import { Module } from '@nestjs/common';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';
import { AllSessionsRevokedHandler } from './all-sessions-revoked.handler';
import { SignOutNotices } from './sign-out-notices';

/** A feature module of the host: it imports nothing of the library, which is global. */
@Module({
  controllers: [AccountsController],
  providers: [AccountsService, AllSessionsRevokedHandler, SignOutNotices],
  exports: [AccountsService, SignOutNotices],
})
export class AccountsModule {}
