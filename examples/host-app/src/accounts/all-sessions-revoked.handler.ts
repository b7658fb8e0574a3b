import { AllSessionsRevoked } from '@app/sessions';
import { EventsHandler, IEventHandler } from '@nestjs/cqrs';
import { SignOutNotices } from './sign-out-notices';

/** Tells the user when all their sessions were ended, by them or by an administrator. */
@EventsHandler(AllSessionsRevoked)
export class AllSessionsRevokedHandler implements IEventHandler<AllSessionsRevoked> {
  constructor(private readonly notices: SignOutNotices) {}

  handle(event: AllSessionsRevoked): void {
    if (!event.subjectUserId) return;
    this.notices.send({ userId: event.subjectUserId, revokedCount: event.count ?? 0, at: event.occurredAt });
  }
}
