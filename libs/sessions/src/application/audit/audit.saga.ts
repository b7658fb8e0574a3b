import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler, IEvent, Saga } from '@nestjs/cqrs';
import { Observable, filter, map } from 'rxjs';
import { AuditEntry } from '../ports/audit-log.port';
import { AuditableEvent, wasRecordedInTransaction } from './auditable-event';
import { toAuditEntry } from './audit-entry.mapper';
import { AuditRecorder } from './audit-recorder';

/**
 * Internal: asks for one audit entry to be recorded. It is not itself audited (auditing the
 * audit would never end); its failures end in the structured log, see AuditRecorder.
 */
export class RecordAuditEntry extends Command<void> {
  constructor(readonly entry: AuditEntry) {
    super();
  }
}

@CommandHandler(RecordAuditEntry)
export class RecordAuditEntryHandler implements ICommandHandler<RecordAuditEntry> {
  constructor(private readonly recorder: AuditRecorder) {}

  async execute(command: RecordAuditEntry): Promise<void> {
    this.recorder.record(command.entry);
  }
}

/** Turns every session event into an audit entry. */
@Injectable()
export class AuditSaga {
  @Saga()
  auditTrail = (events$: Observable<IEvent>): Observable<RecordAuditEntry> =>
    events$.pipe(
      filter((event): event is AuditableEvent => event instanceof AuditableEvent && !wasRecordedInTransaction(event)),
      map((event) => new RecordAuditEntry(toAuditEntry(event))),
    );
}
