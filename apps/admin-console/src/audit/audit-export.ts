import type { AuditEntry } from '@app/sessions';
import { Readable } from 'node:stream';
import type { AuditExportFormat } from '../dto/admin.dto';

/** The CSV columns, in order: every field of an entry, `details` as one JSON column. */
export const AUDIT_CSV_COLUMNS = [
  'eventId',
  'correlationId',
  'occurredAt',
  'action',
  'outcome',
  'userId',
  'actorType',
  'actorId',
  'actorName',
  'sessionId',
  'reason',
  'ipAddress',
  'userAgent',
  'requestId',
  'details',
] as const satisfies ReadonlyArray<keyof AuditEntry>;

export const AUDIT_EXPORT_MEDIA_TYPES: Record<AuditExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/**
 * A spreadsheet runs a cell that starts with one of these as a formula (OWASP, CSV Injection):
 * a User-Agent or a reason is whatever a client or an admin typed, so `=HYPERLINK(...)` would run
 * on the operator's machine. Such a cell gets a leading apostrophe, which the spreadsheet hides
 * and which makes it text.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
/** RFC 4180 §2.6: a field holding any of these is quoted. */
const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field: formula-neutralised, then quoted (inner quotes doubled) when it must be. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record, CRLF-terminated (RFC 4180 §2.1). */
export function csvRecord(fields: ReadonlyArray<string | null>): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

export const AUDIT_CSV_HEADER = csvRecord(AUDIT_CSV_COLUMNS);

export function auditCsvRecord(entry: AuditEntry): string {
  return csvRecord(
    AUDIT_CSV_COLUMNS.map((column) => {
      const value = entry[column];
      if (value === null || value === undefined) return null;
      if (value instanceof Date) return value.toISOString();
      return typeof value === 'string' ? value : JSON.stringify(value);
    }),
  );
}

/** One JSON entry a line, the shape GET /admin/audit answers with. */
export function auditNdjsonLine(entry: AuditEntry): string {
  return `${JSON.stringify(entry)}\n`;
}

/**
 * The export as a byte stream, one chunk a page. Readable.from pulls the next page only when the
 * stream's buffer (16 kB, byte mode) has room, and Fastify pipes it to the socket, which pulls only
 * as the client reads: a slow or paused download stops the reads from PostgreSQL instead of
 * filling memory. The first page is read before the answer starts, so an unreachable database is
 * a 503 problem, not a truncated download.
 */
export async function auditExportStream(format: AuditExportFormat, pages: AsyncGenerator<AuditEntry[], void, undefined>): Promise<Readable> {
  const line = format === 'csv' ? auditCsvRecord : auditNdjsonLine;
  const first = await pages.next();
  async function* chunks(): AsyncGenerator<string, void, undefined> {
    if (format === 'csv') yield AUDIT_CSV_HEADER;
    if (first.done) return;
    yield first.value.map(line).join('');
    for await (const page of pages) yield page.map(line).join('');
  }
  const stream = Readable.from(chunks(), { objectMode: false });
  // A client that goes away mid-download ends the reads: no further page is asked for.
  stream.once('close', () => void pages.return(undefined));
  return stream;
}

/** `audit-20261203T101500Z.csv`: an ISO 8601 instant (basic format: no colons, which file systems refuse). */
export function auditExportFilename(format: AuditExportFormat, at: Date): string {
  return `audit-${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')}.${format}`;
}
