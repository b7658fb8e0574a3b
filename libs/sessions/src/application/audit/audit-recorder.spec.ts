import { ConsoleLogger, Logger, type LogLevel } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditEntriesRejectedError, AuditEntry, AuditLog } from '../ports/audit-log.port';
import { AuditRecorder } from './audit-recorder';

/** Keeps what the recorder logs (through Nest's static Logger). */
class CapturedLog extends ConsoleLogger {
  readonly messages: Array<Record<string, unknown>> = [];
  protected override printMessages(messages: unknown[], _context?: string, _level?: LogLevel): void {
    for (const message of messages) this.messages.push(message as Record<string, unknown>);
  }
  named(msg: string) {
    return this.messages.filter((m) => m?.msg === msg);
  }
}

/** An audit log whose appends fail with `failure` (for the entries `refuses` picks), counting every attempt. */
class FailingAuditLog implements AuditLog {
  readonly attempts: number[] = [];
  readonly written: AuditEntry[] = [];
  constructor(
    private readonly failure: () => unknown,
    private readonly refuses: (entry: AuditEntry) => boolean = () => true,
    /** Attempts that fail before the log recovers (Infinity: never). */
    private failuresLeft = Infinity,
  ) {}
  async append(entries: readonly AuditEntry[]): Promise<void> {
    this.attempts.push(entries.length);
    if (this.failuresLeft > 0 && entries.some(this.refuses)) {
      this.failuresLeft -= 1;
      throw this.failure();
    }
    this.written.push(...entries);
  }
  async findUnfinished(): Promise<AuditEntry[]> {
    return [];
  }
  async query() {
    return { entries: [], nextCursor: null };
  }
  async countOutcomes() {
    return { succeeded: 0, failed: 0 };
  }
}

const pgError = (code: string) => Object.assign(new Error(`pg error ${code}`), { code });
/** What TypeORM throws: a QueryFailedError carrying the pg error as driverError. */
const queryFailed = (code: string) => Object.assign(new Error(`query failed ${code}`), { name: 'QueryFailedError', driverError: pgError(code) });

function entry(): AuditEntry {
  return {
    eventId: randomUUID(),
    correlationId: randomUUID(),
    action: 'sessions.revoke_all',
    outcome: 'attempted',
    occurredAt: new Date(),
    userId: null,
    actorType: 'system',
    actorId: null,
    actorName: null,
    sessionId: null,
    reason: 'test',
    ipAddress: null,
    userAgent: null,
    requestId: null,
    details: {},
  };
}

/** Records the entries, then runs every retry timer out: no real waiting. */
async function recordAll(recorder: AuditRecorder, entries: AuditEntry[]): Promise<void> {
  for (const item of entries) recorder.record(item);
  const drained = recorder.drain();
  await jest.advanceTimersByTimeAsync(60_000);
  await drained;
}

describe('AuditRecorder', () => {
  let log: CapturedLog;

  beforeEach(() => {
    jest.useFakeTimers();
    log = new CapturedLog();
    Logger.overrideLogger(log);
  });

  afterEach(() => {
    jest.useRealTimers();
    Logger.overrideLogger(new ConsoleLogger());
  });

  it.each([
    ['22P02 (invalid text for a uuid)', () => pgError('22P02')],
    ['22001 (a value too long), as TypeORM wraps it', () => queryFailed('22001')],
    ['23505 (a unique violation)', () => pgError('23505')],
    ['42P01 (an undefined table: the schema is not there)', () => queryFailed('42P01')],
    ['42703 (an undefined column)', () => pgError('42703')],
    ['AuditEntriesRejectedError', () => new AuditEntriesRejectedError('refused')],
  ])('does not retry a permanent failure, %s: one attempt, logged at once as permanent', async (_name, failure) => {
    const auditLog = new FailingAuditLog(failure);
    const recorder = new AuditRecorder(auditLog);
    const item = entry();
    await recordAll(recorder, [item]);
    expect(auditLog.attempts).toEqual([1]);
    expect(log.named('audit_write_failed')).toEqual([expect.objectContaining({ permanent: true, entry: item })]);
  });

  it('writes the neighbours of an entry refused for good, entry by entry, and retries none of them', async () => {
    const bad = entry();
    const good = [entry(), entry()];
    const auditLog = new FailingAuditLog(
      () => queryFailed('22P02'),
      (e) => e.eventId === bad.eventId,
    );
    await recordAll(new AuditRecorder(auditLog), [good[0], bad, good[1]]);
    expect(auditLog.attempts).toEqual([3, 1, 1, 1]);
    expect(auditLog.written.map((e) => e.eventId).sort()).toEqual(good.map((e) => e.eventId).sort());
    expect(log.named('audit_write_failed').map((m) => (m.entry as AuditEntry).eventId)).toEqual([bad.eventId]);
  });

  it.each([
    ['08006 (connection failure)', () => queryFailed('08006')],
    ['57P01 (administrator shutdown)', () => pgError('57P01')],
    ['53300 (too many connections)', () => pgError('53300')],
    ['40001 (serialization failure)', () => pgError('40001')],
    ['a timeout without a SQLSTATE', () => new Error('Connection terminated due to connection timeout')],
  ])('keeps retrying a transient failure, %s, and logs it as not permanent when it never clears', async (_name, failure) => {
    const auditLog = new FailingAuditLog(failure);
    await recordAll(new AuditRecorder(auditLog), [entry()]);
    expect(auditLog.attempts).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(log.named('audit_write_failed')).toEqual([expect.objectContaining({ permanent: false })]);
  });

  it('writes an entry once a transient failure clears', async () => {
    const auditLog = new FailingAuditLog(
      () => pgError('57P01'),
      () => true,
      2,
    );
    const item = entry();
    await recordAll(new AuditRecorder(auditLog), [item]);
    expect(auditLog.attempts).toEqual([1, 1, 1]);
    expect(auditLog.written).toEqual([item]);
    expect(log.named('audit_write_recovered')).toEqual([expect.objectContaining({ attempts: 3 })]);
    expect(log.named('audit_write_failed')).toEqual([]);
  });

  it('holds a batch back while another with an entry of the same operation is in flight, and only that batch', async () => {
    jest.useRealTimers();
    const releases: Array<() => void> = [];
    const started: string[][] = [];
    const auditLog = new FailingAuditLog(
      () => new Error('never'),
      () => false,
    );
    auditLog.append = async (entries) => {
      started.push(entries.map((e) => e.eventId));
      await new Promise<void>((resolve) => releases.push(resolve));
    };
    const recorder = new AuditRecorder(auditLog);
    const attempted = entry();
    const failed = { ...entry(), correlationId: attempted.correlationId, outcome: 'failed' as const };
    const unrelated = entry();
    recorder.record(attempted);
    await new Promise((resolve) => setImmediate(resolve));
    recorder.record(failed);
    await new Promise((resolve) => setImmediate(resolve));
    recorder.record(unrelated);
    await new Promise((resolve) => setImmediate(resolve));
    // The unrelated batch went out beside the first; the Failed waits for its Attempted's write.
    expect(started).toEqual([[attempted.eventId], [unrelated.eventId]]);
    releases.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([[attempted.eventId], [unrelated.eventId], [failed.eventId]]);
    for (const release of releases.splice(0)) release();
    await recorder.drain();
  });

  it('writes the entries of one operation one after the other when a refused batch is split', async () => {
    const bad = entry();
    const attempted = entry();
    const succeeded = { ...entry(), correlationId: attempted.correlationId, outcome: 'succeeded' as const };
    let inFlight = 0;
    const overlapping: string[] = [];
    const auditLog = new FailingAuditLog(
      () => queryFailed('22P02'),
      (e) => e.eventId === bad.eventId,
    );
    const append = auditLog.append.bind(auditLog);
    auditLog.append = async (entries) => {
      if (entries.length === 1 && entries[0].correlationId === attempted.correlationId) {
        if (inFlight > 0) overlapping.push(entries[0].eventId);
        inFlight += 1;
        await Promise.resolve();
        inFlight -= 1;
      }
      return append(entries);
    };
    await recordAll(new AuditRecorder(auditLog), [attempted, bad, succeeded]);
    expect(auditLog.written.map((e) => e.eventId)).toEqual([attempted.eventId, succeeded.eventId]);
    expect(overlapping).toEqual([]);
  });
});
