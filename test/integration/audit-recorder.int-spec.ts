import { randomUUID } from 'node:crypto';
import { runSessionsMigrations } from '@app/sessions';
import { ConsoleLogger, Logger, type LogLevel } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditRecorder } from '../../libs/sessions/src/application/audit/audit-recorder';
import type { AuditEntry, AuditLog } from '../../libs/sessions/src/application/ports/audit-log.port';
import { TypeOrmAuditLog } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-audit-log';
import { sql } from '../support/sql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(60_000);

/** Keeps what the recorder logs (it logs through Nest's static Logger). */
class CapturedLog extends ConsoleLogger {
  readonly entries: Array<{ level: LogLevel; message: unknown }> = [];
  protected override printMessages(messages: unknown[], _context?: string, logLevel: LogLevel = 'log'): void {
    for (const message of messages) this.entries.push({ level: logLevel, message });
  }
  failed(): Array<Record<string, unknown>> {
    return this.entries.map((e) => e.message as Record<string, unknown>).filter((m) => m?.msg === 'audit_write_failed');
  }
}

/** Counts the statements the recorder sends. */
class CountingAuditLog implements AuditLog {
  readonly batches: number[] = [];
  constructor(private readonly inner: AuditLog) {}
  append(entries: readonly AuditEntry[]): Promise<void> {
    this.batches.push(entries.length);
    return this.inner.append(entries);
  }
  findUnfinished: AuditLog['findUnfinished'] = (query) => this.inner.findUnfinished(query);
  query: AuditLog['query'] = (query) => this.inner.query(query);
  countOutcomes: AuditLog['countOutcomes'] = (action, since) => this.inner.countOutcomes(action, since);
}

function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    eventId: randomUUID(),
    correlationId: randomUUID(),
    action: 'user.login',
    outcome: 'attempted',
    occurredAt: new Date(),
    userId: null,
    actorType: 'user',
    actorId: null,
    sessionId: null,
    reason: null,
    ipAddress: '203.0.113.9',
    userAgent: 'audit-recorder-test',
    details: {},
    ...overrides,
  } as AuditEntry;
}

describe('AuditRecorder against PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  const log = new CapturedLog();

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = new DataSource({ type: 'postgres', url: database.url });
    await dataSource.initialize();
    await runSessionsMigrations(dataSource);
    Logger.overrideLogger(log);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('writes every good entry of a batch that holds bad ones, and logs each bad one at once as audit_write_failed', async () => {
    const auditLog = new CountingAuditLog(new TypeOrmAuditLog(dataSource));
    const recorder = new AuditRecorder(auditLog);
    const good = [entry(), entry({ outcome: 'failed', reason: 'invalid_credentials' }), entry(), entry()];
    // Class 22: a value longer than its varchar(64) column. Class 23: a NOT NULL column left null.
    const tooLong = entry({ ipAddress: 'x'.repeat(100) });
    const missingAction = entry({ action: null as unknown as AuditEntry['action'] });
    const started = Date.now();
    for (const item of [good[0], tooLong, good[1], good[2], missingAction, good[3]]) recorder.record(item);
    await recorder.drain();
    const elapsedMs = Date.now() - started;

    const stored = await sql<{ event_id: string }>(database.url, 'SELECT event_id FROM audit_entries ORDER BY event_id');
    expect(stored.map((row) => row.event_id).sort()).toEqual(good.map((e) => e.eventId).sort());
    const failed = log.failed();
    expect(failed.map((m) => (m.entry as AuditEntry).eventId).sort()).toEqual([tooLong.eventId, missingAction.eventId].sort());
    expect(failed.every((m) => m.permanent === true)).toBe(true);
    expect(failed.map((m) => String(m.error).match(/SQLSTATE (\d{2})/)?.[1]).sort()).toEqual(['22', '23']);
    // One statement for the batch, then one per entry: nothing retried.
    expect(auditLog.batches).toEqual([6, 1, 1, 1, 1, 1, 1]);
    console.log(`6 entries, 2 refused: 4 written and 2 logged as audit_write_failed in ${elapsedMs} ms, ${auditLog.batches.length} statements`);
  });
});
