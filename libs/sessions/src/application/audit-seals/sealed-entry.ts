import { createHash } from 'node:crypto';

/**
 * What a seal hashes, and how. Pure: the sealer (live rows read from PostgreSQL) and an offline
 * check of an NDJSON export (every column, as GET /admin/audit/export writes them) run the same
 * code, so an entry hashes alike wherever it is read from. docs/audit.md has the whole design.
 */

/** Bumped whenever the serialisation changes; stored in each seal so old seals stay checkable. */
export const SEAL_FORMAT = 1;

/** Every column of audit_entries, in the fixed order of the serialisation (a test compares it with the table). */
export const SEALED_COLUMNS = [
  'event_id',
  'correlation_id',
  'action',
  'outcome',
  'occurred_at',
  'user_id',
  'actor_type',
  'actor_id',
  'actor_name',
  'session_id',
  'reason',
  'ip_address',
  'user_agent',
  'request_id',
  'details',
  'recorded_at',
] as const;

/**
 * One audit entry, every column, as the seal sees it. Timestamps are strings of microseconds
 * (PostgreSQL's precision: a JavaScript Date keeps milliseconds, so recorded_at, the database's
 * now(), would not survive one); see canonicalTimestamp for the forms accepted.
 */
export interface SealedEntry {
  readonly eventId: string;
  readonly correlationId: string;
  readonly action: string;
  readonly outcome: string;
  readonly occurredAt: string | Date;
  readonly userId: string | null;
  readonly actorType: string;
  readonly actorId: string | null;
  readonly actorName: string | null;
  readonly sessionId: string | null;
  readonly reason: string | null;
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
  readonly details: unknown;
  readonly recordedAt: string | Date;
}

const ISO_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(?:Z|\+00:00)$/;

/**
 * `2026-12-03T07:22:27.123456Z`: UTC, always six fraction digits. Accepts a Date (milliseconds,
 * padded: occurred_at is written from one) or an ISO string in UTC with 0 to 6 fraction digits, so
 * an export that writes occurred_at as `Date.toISOString()` and recorded_at with microseconds
 * hashes like the live row. Anything else throws: a timestamp read in a local zone must not be
 * hashed as something else.
 */
export function canonicalTimestamp(value: string | Date): string {
  const text = value instanceof Date ? value.toISOString() : value;
  const match = ISO_TIMESTAMP.exec(text);
  if (!match) throw new Error(`Not a UTC ISO timestamp: ${JSON.stringify(text)}`);
  return `${match[1]}.${(match[2] ?? '').padEnd(6, '0')}Z`;
}

/**
 * JSON with object keys sorted by UTF-16 code units (RFC 8785's order) at every depth, no
 * whitespace. jsonb keeps its own key order (shorter keys first), a JavaScript object its
 * insertion order, an export whatever its writer chose: sorting makes them one. Numbers are as
 * JSON.stringify writes them (RFC 8785's form for finite numbers); an integer past 2^53 has
 * already been rounded by JSON.parse, alike at sealing and at verification.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    if (text === undefined) throw new Error(`Not a JSON value: ${typeof value}`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object)
    .filter((key) => object[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`).join(',')}}`;
}

/**
 * The bytes an entry's hash is taken over: a JSON array of the format and every column in
 * SEALED_COLUMNS order (null for an absent value, never an omitted key), details canonical,
 * UTF-8. JSON's string escaping makes the encoding unambiguous (no value can run into the next);
 * text is hashed as stored, without Unicode normalisation: two spellings of é are two entries.
 */
export function serializeEntry(entry: SealedEntry): string {
  return canonicalJson([
    SEAL_FORMAT,
    entry.eventId.toLowerCase(),
    entry.correlationId.toLowerCase(),
    entry.action,
    entry.outcome,
    canonicalTimestamp(entry.occurredAt),
    entry.userId?.toLowerCase() ?? null,
    entry.actorType,
    entry.actorId?.toLowerCase() ?? null,
    entry.actorName ?? null,
    entry.sessionId?.toLowerCase() ?? null,
    entry.reason ?? null,
    entry.ipAddress ?? null,
    entry.userAgent ?? null,
    entry.requestId ?? null,
    entry.details ?? {},
    canonicalTimestamp(entry.recordedAt),
  ]);
}

const sha256 = (...parts: Array<Buffer | string>): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/** SHA-256 of serializeEntry: the leaf a seal keeps for each entry. */
export function entryHash(entry: SealedEntry): Buffer {
  return sha256(Buffer.from(serializeEntry(entry), 'utf8'));
}

/** The byte length of one leaf in a seal's packed list: a UUID's 16 bytes, then the 32-byte hash. */
export const LEAF_BYTES = 48;

export interface SealLeaf {
  readonly eventId: string;
  readonly hash: Buffer;
}

/** The leaves as a seal stores them, in seal order: event id (16 bytes) then hash (32), each. */
export function packLeaves(leaves: readonly SealLeaf[]): Buffer {
  return Buffer.concat(leaves.flatMap((leaf) => [Buffer.from(leaf.eventId.replace(/-/g, ''), 'hex'), leaf.hash]));
}

export function unpackLeaves(packed: Buffer): SealLeaf[] {
  if (packed.length % LEAF_BYTES !== 0) throw new Error(`A packed leaf list is a multiple of ${LEAF_BYTES} bytes (got ${packed.length})`);
  const leaves: SealLeaf[] = [];
  for (let offset = 0; offset < packed.length; offset += LEAF_BYTES) {
    const hex = packed.subarray(offset, offset + 16).toString('hex');
    const eventId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    leaves.push({ eventId, hash: Buffer.from(packed.subarray(offset + 16, offset + LEAF_BYTES)) });
  }
  return leaves;
}

/** The previous hash of the first seal of a trail. */
export const GENESIS_SEAL_HASH = Buffer.alloc(32);

/** What a seal's own hash covers. */
export interface SealFields {
  readonly format: number;
  /** Canonical timestamps (canonicalTimestamp): the seal covers entries recorded in [rangeStart, rangeEnd). */
  readonly rangeStart: string;
  readonly rangeEnd: string;
  readonly entryCount: number;
  /** SHA-256 of the packed leaves. */
  readonly entriesDigest: Buffer;
  /** The previous seal's seal hash; GENESIS_SEAL_HASH for the first. */
  readonly previousSealHash: Buffer;
}

/** SHA-256 over the packed leaves: the entries' digest a seal stores and chains. */
export function entriesDigest(packedLeaves: Buffer): Buffer {
  return sha256(packedLeaves);
}

/**
 * The seal's hash: SHA-256 of the previous seal's hash, the entries' digest, and the format,
 * range and count as one canonical JSON line (the fixed-length hashes first, so no field can
 * run into another). Changing any stored field of any seal, or of any leaf list, breaks this
 * seal's hash or the next one's link.
 */
export function sealHash(fields: SealFields): Buffer {
  const header = canonicalJson([fields.format, canonicalTimestamp(fields.rangeStart), canonicalTimestamp(fields.rangeEnd), fields.entryCount]);
  return sha256(fields.previousSealHash, fields.entriesDigest, Buffer.from(header, 'utf8'));
}
