import { EventBus, IEvent } from '@nestjs/cqrs';
import { AuditableEvent } from '../application/audit/auditable-event';

/** Collects published events in order, instead of dispatching them. */
export class RecordingEventBus {
  readonly events: AuditableEvent[] = [];
  publish(event: IEvent): void {
    this.events.push(event as AuditableEvent);
  }
  asEventBus(): EventBus {
    return this as unknown as EventBus;
  }
  outcomes(): string[] {
    return this.events.map((e) => `${e.constructor.name}:${e.reason ?? ''}`);
  }
}
