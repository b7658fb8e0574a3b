import { firstEntryMismatch } from './seal-check';
import { canonicalJson, canonicalTimestamp, entryHash, packLeaves, SealedEntry, serializeEntry, unpackLeaves } from './sealed-entry';

const ENTRY: SealedEntry = {
  eventId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  correlationId: '0193a1b2-c3d4-7e5f-8a9b-000000000001',
  action: 'user.login',
  outcome: 'succeeded',
  occurredAt: new Date('2026-12-03T07:22:27.123Z'),
  userId: null,
  actorType: 'user',
  actorId: null,
  actorName: null,
  sessionId: null,
  reason: null,
  ipAddress: '203.0.113.9',
  userAgent: 'seal-test',
  requestId: null,
  details: { b: 1, a: { d: [1, 'x'], c: null } },
  recordedAt: '2026-12-03T07:22:27.123456Z',
};

describe('the canonical serialisation of an audit entry', () => {
  it('sorts the keys of details at every depth, so jsonb, an object and an export agree', () => {
    const reordered = { ...ENTRY, details: { a: { c: null, d: [1, 'x'] }, b: 1 } };
    expect(serializeEntry(reordered)).toBe(serializeEntry(ENTRY));
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    // An array's order is data, not notation.
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it('writes every column in a fixed order, null for an absent value, never dropping it', () => {
    expect(JSON.parse(serializeEntry(ENTRY))).toEqual([
      1,
      ENTRY.eventId,
      ENTRY.correlationId,
      'user.login',
      'succeeded',
      '2026-12-03T07:22:27.123000Z',
      null,
      'user',
      null,
      null,
      null,
      null,
      '203.0.113.9',
      'seal-test',
      null,
      { a: { c: null, d: [1, 'x'] }, b: 1 },
      '2026-12-03T07:22:27.123456Z',
    ]);
    // A null reason and the string "null" are two entries; so are null and "".
    expect(entryHash({ ...ENTRY, reason: 'null' })).not.toEqual(entryHash(ENTRY));
    expect(entryHash({ ...ENTRY, reason: '' })).not.toEqual(entryHash(ENTRY));
  });

  it('keeps values apart: no shift of text between two columns hashes alike', () => {
    const one = { ...ENTRY, reason: 'ab', userAgent: 'c' };
    const other = { ...ENTRY, reason: 'a', userAgent: 'bc' };
    expect(entryHash(one)).not.toEqual(entryHash(other));
    expect(entryHash({ ...ENTRY, reason: 'a","b' })).not.toEqual(entryHash({ ...ENTRY, reason: 'a', userAgent: 'b' }));
  });

  it('hashes Unicode as stored: UTF-8 of the text, no normalisation, astral characters whole', () => {
    const precomposed = { ...ENTRY, reason: 'caf\u00e9 \u{1F600}' };
    const decomposed = { ...ENTRY, reason: 'cafe\u0301 \u{1F600}' };
    expect(entryHash(precomposed)).not.toEqual(entryHash(decomposed));
    expect(serializeEntry(precomposed)).toContain('café 😀');
    expect(entryHash(precomposed)).toEqual(entryHash({ ...precomposed }));
  });

  it('reads a timestamp alike from a Date, milliseconds or microseconds, and refuses a local one', () => {
    expect(canonicalTimestamp(new Date('2026-01-02T03:04:05.006Z'))).toBe('2026-01-02T03:04:05.006000Z');
    expect(canonicalTimestamp('2026-01-02T03:04:05.006Z')).toBe('2026-01-02T03:04:05.006000Z');
    expect(canonicalTimestamp('2026-01-02T03:04:05Z')).toBe('2026-01-02T03:04:05.000000Z');
    expect(canonicalTimestamp('2026-01-02T03:04:05.000006+00:00')).toBe('2026-01-02T03:04:05.000006Z');
    expect(() => canonicalTimestamp('2026-01-02T03:04:05.006+01:00')).toThrow(/UTC/);
    expect(() => canonicalTimestamp('2026-01-02 03:04:05')).toThrow(/UTC/);
  });

  it('treats an event id in upper case as the same id', () => {
    expect(entryHash({ ...ENTRY, eventId: ENTRY.eventId.toUpperCase() })).toEqual(entryHash(ENTRY));
  });
});

describe('a seal checked against the entries found in its range', () => {
  const entries = [0, 1, 2].map((n) => ({ ...ENTRY, eventId: `0193a1b2-c3d4-7e5f-8a9b-00000000000${n}`, reason: `r${n}` }));
  const seal = { leaves: packLeaves(entries.map((entry) => ({ eventId: entry.eventId, hash: entryHash(entry) }))) };

  it('packs and unpacks its leaves', () => {
    expect(unpackLeaves(seal.leaves).map((leaf) => leaf.eventId)).toEqual(entries.map((entry) => entry.eventId));
  });

  it('matches the entries it sealed', () => {
    expect(firstEntryMismatch(seal, entries)).toBeNull();
  });

  it('names the first entry that does not match, in seal order', () => {
    const changed = [entries[0], { ...entries[1], reason: 'edited' }, { ...entries[2], reason: 'edited too' }];
    expect(firstEntryMismatch(seal, changed)).toEqual({ eventId: entries[1].eventId, reason: 'changed' });
    expect(firstEntryMismatch(seal, [entries[0], entries[2]])).toEqual({ eventId: entries[1].eventId, reason: 'missing' });
    const inserted = { ...ENTRY, eventId: '0193a1b2-c3d4-7e5f-8a9b-0000000000ff' };
    expect(firstEntryMismatch(seal, [entries[0], inserted, entries[1], entries[2]])).toEqual({ eventId: inserted.eventId, reason: 'unsealed' });
    // A row deleted before an edited one is the first mismatch.
    expect(firstEntryMismatch(seal, [entries[1], { ...entries[2], reason: 'x' }])).toEqual({ eventId: entries[0].eventId, reason: 'missing' });
    // A copy of a sealed row under its own id is not that row.
    expect(firstEntryMismatch(seal, [...entries, entries[2]])).toEqual({ eventId: entries[2].eventId, reason: 'unsealed' });
  });
});
