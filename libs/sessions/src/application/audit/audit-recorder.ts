import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { NOOP_SESSIONS_OBSERVER, SESSIONS_OBSERVER, SessionsObserver } from '../observer/sessions-observer';
import { AUDIT_LOG, AuditEntry, AuditLog } from '../ports/audit-log.port';
import { isPermanentWriteFailure } from './write-failures';

/** How long a failing audit write is retried before the entry goes to the structured log. */
const RETRY_DELAYS_MS = [50, 200, 1_000, 2_000, 5_000, 10_000];

/**
 * Writes audit entries outside a command's transaction (Attempted and Failed entries; a
 * Succeeded entry was already written inside its transaction and is skipped by event id).
 * Entries arriving in the same tick go out in one INSERT. A write that keeps failing is
 * retried for about 18 s, then logged in full as `audit_write_failed` so it can be replayed:
 * an outcome is never dropped silently. A permanent failure (see isPermanentWriteFailure: the
 * data refused, SQLSTATE class 22, 23 or 42) is never retried: a batch is then written entry by
 * entry, so one bad entry never takes its neighbours down, and an entry refused on its own is
 * logged as `audit_write_failed` (`permanent: true`) at once. So a refused entry never holds up
 * `app.close()` for the retries.
 *
 * Batches go out concurrently, except that a batch holding an entry of an operation (correlation
 * id) waits for the batch in flight with another entry of it: the claim trigger links an
 * operation's two entries (audit_user_entries, migration 1764000001600) when the second comes in,
 * and two transactions in flight at once would not see each other's entry.
 */
@Injectable()
export class AuditRecorder implements OnApplicationShutdown {
  private readonly logger = new Logger(AuditRecorder.name);
  private queue: AuditEntry[] = [];
  private flushScheduled = false;
  private readonly inFlight = new Set<Promise<void>>();
  /** The write in flight with an entry of each operation, by correlation id. */
  private readonly writing = new Map<string, Promise<void>>();

  private readonly observer: SessionsObserver;

  constructor(
    @Inject(AUDIT_LOG) private readonly auditLog: AuditLog,
    @Optional() @Inject(SESSIONS_OBSERVER) observer?: SessionsObserver,
  ) {
    this.observer = observer ?? NOOP_SESSIONS_OBSERVER;
  }

  record(entry: AuditEntry): void {
    this.queue.push(entry);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Resolves once every entry recorded so far has been written (or logged as failed). */
  async drain(): Promise<void> {
    // Events published just before this call reach record() through the saga a few microtasks later.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0 || this.inFlight.size > 0 || this.flushScheduled) {
      if (this.flushScheduled || this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
      await Promise.all([...this.inFlight]);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const earlier = new Set<Promise<void>>();
    for (const entry of batch) {
      const pending = this.writing.get(entry.correlationId);
      if (pending) earlier.add(pending);
    }
    const started = earlier.size === 0 ? this.writeWithRetry(batch) : Promise.allSettled(earlier).then(() => this.writeWithRetry(batch));
    const write: Promise<void> = started.finally(() => {
      this.inFlight.delete(write);
      for (const entry of batch) if (this.writing.get(entry.correlationId) === write) this.writing.delete(entry.correlationId);
    });
    this.inFlight.add(write);
    for (const entry of batch) this.writing.set(entry.correlationId, write);
  }

  private async writeWithRetry(batch: readonly AuditEntry[]): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.auditLog.append(batch);
        this.observer.auditWrite('written', batch.length);
        if (attempt > 0) this.logger.warn({ msg: 'audit_write_recovered', entries: batch.length, attempts: attempt + 1 });
        return;
      } catch (error) {
        if (isPermanentWriteFailure(error)) {
          if (batch.length === 1) {
            this.logFailed(batch, error, { permanent: true });
            return;
          }
          this.logger.warn({ msg: 'audit_batch_rejected', entries: batch.length, error: (error as Error).message });
          // One at a time within an operation, for the same reason batches are (above).
          const operations = new Map<string, AuditEntry[]>();
          for (const entry of batch) operations.set(entry.correlationId, [...(operations.get(entry.correlationId) ?? []), entry]);
          await Promise.all(
            [...operations.values()].map(async (entries) => {
              for (const entry of entries) await this.writeWithRetry([entry]);
            }),
          );
          return;
        }
        if (attempt >= RETRY_DELAYS_MS.length) {
          this.logFailed(batch, error, { permanent: false });
          return;
        }
        this.observer.auditWrite('retried', batch.length);
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[attempt]));
      }
    }
  }

  private logFailed(entries: readonly AuditEntry[], error: unknown, { permanent }: { permanent: boolean }): void {
    this.observer.auditWrite('failed', entries.length);
    for (const entry of entries) {
      this.logger.error({ msg: 'audit_write_failed', error: (error as Error).message, permanent, entry });
    }
  }
}
