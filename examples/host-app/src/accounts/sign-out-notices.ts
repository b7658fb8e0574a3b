import { Injectable, Logger } from '@nestjs/common';

export interface SignOutNotice {
  readonly userId: string;
  readonly revokedCount: number;
  readonly at: Date;
}

/**
 * The host's "you were signed out everywhere" notices. A real host would send an email or a push
 * message; this one keeps them in memory and logs them, so a test can see the event was handled.
 */
@Injectable()
export class SignOutNotices {
  private readonly logger = new Logger(SignOutNotices.name);
  private readonly sent: SignOutNotice[] = [];

  send(notice: SignOutNotice): void {
    this.sent.push(notice);
    this.logger.log(`User ${notice.userId} was signed out of ${notice.revokedCount} session(s)`);
  }

  for(userId: string): readonly SignOutNotice[] {
    return this.sent.filter((notice) => notice.userId === userId);
  }
}
