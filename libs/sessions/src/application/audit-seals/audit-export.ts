import { createHash } from 'node:crypto';
import { firstEntryMismatch, SealMismatchReason, sealIntegrityProblem, StoredSeal } from './seal-check';
import { canonicalTimestamp, GENESIS_SEAL_HASH, SealedEntry } from './sealed-entry';

/**
 * The export of one audit partition before retention drops it (docs/audit.md, "Exports"): a
 * directory of three files, checkable offline by the same functions that check the live trail.
 * - `entries.ndjson`: one entry a line, every column (SealedEntry's names), timestamps as UTC text
 *   with microseconds, in seal order (recorded_at, event_id);
 * - `seals.ndjson`: the seals of the partition's range, in chain order, with their leaf lists;
 * - `manifest.json`, written last: each file's SHA-256 and line count, the entries' first and last
 *   event ids, the range, and the chain's anchors (the hash the first seal links to, the last
 *   seal's hash). Its own SHA-256 is recorded in audit_exports and in the `audit.retention` entry.
 */
export const AUDIT_EXPORT_FORMAT = 1;
export const AUDIT_EXPORT_FILES = { manifest: 'manifest.json', entries: 'entries.ndjson', seals: 'seals.ndjson' } as const;

/** A seal as a line of seals.ndjson: hashes in hex, the leaf list in base64. */
export interface ExportedSeal {
  readonly id: string;
  readonly format: number;
  readonly rangeStart: string;
  readonly rangeEnd: string;
  readonly entryCount: number;
  readonly entriesDigest: string;
  readonly leaves: string;
  readonly previousSealHash: string;
  readonly sealHash: string;
}

export interface ExportedFile {
  readonly file: string;
  readonly sha256: string;
  readonly lines: number;
}

export interface AuditExportManifest {
  readonly format: number;
  readonly schema: string;
  readonly partition: string;
  readonly range: { readonly start: string; readonly end: string };
  readonly exportedAt: string;
  readonly entries: ExportedFile & { readonly firstEventId: string | null; readonly lastEventId: string | null };
  readonly seals: ExportedFile & {
    /** The hash the first seal links to: the seal before the range (the genesis hash for the trail's first). */
    readonly previousSealHash: string;
    readonly lastSealHash: string | null;
    readonly firstSealId: string | null;
    readonly lastSealId: string | null;
  };
}

export function exportedSeal(seal: StoredSeal): ExportedSeal {
  return {
    id: seal.id,
    format: seal.format,
    rangeStart: seal.rangeStart,
    rangeEnd: seal.rangeEnd,
    entryCount: seal.entryCount,
    entriesDigest: seal.entriesDigest.toString('hex'),
    leaves: seal.leaves.toString('base64'),
    previousSealHash: seal.previousSealHash.toString('hex'),
    sealHash: seal.sealHash.toString('hex'),
  };
}

function storedSeal(line: ExportedSeal): StoredSeal {
  return {
    id: String(line.id),
    format: line.format,
    rangeStart: line.rangeStart,
    rangeEnd: line.rangeEnd,
    entryCount: line.entryCount,
    entriesDigest: Buffer.from(line.entriesDigest, 'hex'),
    leaves: Buffer.from(line.leaves, 'base64'),
    previousSealHash: Buffer.from(line.previousSealHash, 'hex'),
    sealHash: Buffer.from(line.sealHash, 'hex'),
  };
}

export const sha256Hex = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** A file whose bytes are not those the manifest describes. */
export interface ExportFileProblem {
  readonly file: string;
  readonly problem: 'sha256' | 'lines';
  readonly expected: string | number;
  readonly actual: string | number;
}

/** The first entry (or seal, or line) of the export that does not match. */
export interface ExportMismatch {
  readonly reason: SealMismatchReason | 'unreadable' | 'out_of_range' | 'manifest';
  readonly eventId: string | null;
  /** The seal it was checked against, when there is one. */
  readonly sealId: string | null;
  /** 1-based line of entries.ndjson (or seals.ndjson for a seal), when known. */
  readonly line: number | null;
  readonly detail?: string;
}

export type AuditExportVerification =
  | { readonly ok: true; readonly manifestSha256: string; readonly partition: string; readonly entries: number; readonly seals: number }
  | {
      readonly ok: false;
      readonly manifestSha256: string;
      readonly partition: string | null;
      readonly files: readonly ExportFileProblem[];
      readonly firstMismatch: ExportMismatch | null;
    };

/** The export's three files, as read from disk; a missing file is an empty one. */
export interface AuditExportFiles {
  readonly manifest: Buffer;
  readonly entries: Buffer;
  readonly seals: Buffer;
}

const linesOf = (bytes: Buffer) => {
  const text = bytes.toString('utf8');
  if (text === '') return [];
  return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
};

/**
 * Checks an export without a database: the manifest's digests and line counts, the seal chain
 * (each seal's hash over its fields and leaves, each link, the anchors, the range covered), then
 * every entry against its seal's leaves. Reports every file that does not match and the first
 * entry that does not (by position: a changed line is named even though its file's digest is
 * already wrong). `expectedManifestSha256` (from audit_exports or the `audit.retention` entry)
 * catches a manifest rewritten together with the files it describes.
 */
export function verifyAuditExport(files: AuditExportFiles, expectedManifestSha256?: string): AuditExportVerification {
  const manifestSha256 = sha256Hex(files.manifest);
  const fail = (firstMismatch: ExportMismatch | null, problems: readonly ExportFileProblem[] = [], partition: string | null = null) =>
    ({ ok: false, manifestSha256, partition, files: problems, firstMismatch }) as const;

  let manifest: AuditExportManifest;
  try {
    manifest = JSON.parse(files.manifest.toString('utf8')) as AuditExportManifest;
    if (manifest.format !== AUDIT_EXPORT_FORMAT || !manifest.range || !manifest.entries || !manifest.seals) throw new Error('not an audit export manifest');
  } catch (error) {
    return fail(manifestMismatch((error as Error).message));
  }
  const problems: ExportFileProblem[] = [];
  if (expectedManifestSha256 !== undefined && expectedManifestSha256.toLowerCase() !== manifestSha256) {
    problems.push({ file: AUDIT_EXPORT_FILES.manifest, problem: 'sha256', expected: expectedManifestSha256.toLowerCase(), actual: manifestSha256 });
  }
  const entryLines = linesOf(files.entries);
  const sealLines = linesOf(files.seals);
  for (const [described, bytes, lines] of [
    [manifest.entries, files.entries, entryLines],
    [manifest.seals, files.seals, sealLines],
  ] as const) {
    const actual = sha256Hex(bytes);
    if (actual !== described.sha256) problems.push({ file: described.file, problem: 'sha256', expected: described.sha256, actual });
    if (lines.length !== described.lines) problems.push({ file: described.file, problem: 'lines', expected: described.lines, actual: lines.length });
  }
  const mismatch = firstMismatchOf(manifest, entryLines, sealLines);
  if (problems.length > 0 || mismatch !== null) return fail(mismatch, problems, manifest.partition);
  return { ok: true, manifestSha256, partition: manifest.partition, entries: entryLines.length, seals: sealLines.length };
}

function firstMismatchOf(manifest: AuditExportManifest, entryLines: readonly string[], sealLines: readonly string[]): ExportMismatch | null {
  const rangeStart = canonicalTimestamp(manifest.range.start);
  const rangeEnd = canonicalTimestamp(manifest.range.end);
  const seals: StoredSeal[] = [];
  for (const [index, line] of sealLines.entries()) {
    try {
      seals.push(storedSeal(JSON.parse(line) as ExportedSeal));
    } catch (error) {
      return { reason: 'unreadable', eventId: null, sealId: null, line: index + 1, detail: `${AUDIT_EXPORT_FILES.seals}: ${(error as Error).message}` };
    }
  }
  // The chain: from the manifest's anchor, link by link, to its last hash, tiling the range.
  const anchor = Buffer.from(manifest.seals.previousSealHash ?? '', 'hex');
  let previous: Pick<StoredSeal, 'sealHash' | 'rangeEnd'> | null = null;
  for (const [index, seal] of seals.entries()) {
    const broken = (detail: string): ExportMismatch => ({ reason: 'chain_broken', eventId: null, sealId: seal.id, line: index + 1, detail });
    if (index === 0) {
      if (!seal.previousSealHash.equals(anchor)) return broken('the first seal does not link to the manifest’s previousSealHash');
      // The trail's first seal may start after the range does (at its oldest entry's day); any other starts with it.
      if (anchor.equals(GENESIS_SEAL_HASH) ? seal.rangeStart < rangeStart : seal.rangeStart !== rangeStart)
        return broken('the seals do not start with the range');
      previous = anchor.equals(GENESIS_SEAL_HASH) ? null : { sealHash: anchor, rangeEnd: seal.rangeStart };
    }
    const problem = sealIntegrityProblem(seal, previous);
    if (problem) return broken('the seal’s hash, leaves or link do not match');
    if (seal.rangeEnd > rangeEnd) return broken('the seal reaches past the range');
    previous = seal;
  }
  const last = seals.at(-1);
  if ((last?.sealHash.toString('hex') ?? null) !== manifest.seals.lastSealHash) {
    return {
      reason: 'chain_broken',
      eventId: null,
      sealId: last?.id ?? null,
      line: seals.length || null,
      detail: 'the last seal is not the manifest’s lastSealHash',
    };
  }
  if (entryLines.length > 0 && last?.rangeEnd !== rangeEnd) {
    return {
      reason: 'chain_broken',
      eventId: null,
      sealId: last?.id ?? null,
      line: seals.length || null,
      detail: 'the seals do not reach the end of the range',
    };
  }

  // The entries, seal by seal: each lies in its seal's range, in order, and matches its leaf.
  let sealIndex = 0;
  let batch: Array<{ entry: SealedEntry; line: number }> = [];
  const check = (): ExportMismatch | null => {
    const seal = seals[sealIndex];
    const checked = batch;
    batch = [];
    const found = firstEntryMismatch(
      seal,
      checked.map(({ entry }) => entry),
    );
    if (!found) return null;
    const line = checked.find(({ entry }) => entry.eventId.toLowerCase() === found.eventId)?.line ?? lineOf(found.eventId);
    return { reason: found.reason, eventId: found.eventId, sealId: seal.id, line };
  };
  const lineOf = (eventId: string | null) => {
    if (eventId === null) return null;
    const index = entryLines.findIndex((line) => line.toLowerCase().includes(`"eventid":"${eventId}"`));
    return index < 0 ? null : index + 1;
  };
  for (const [index, line] of entryLines.entries()) {
    let entry: SealedEntry;
    let recordedAt: string;
    try {
      entry = JSON.parse(line) as SealedEntry;
      recordedAt = canonicalTimestamp(entry.recordedAt);
    } catch (error) {
      return { reason: 'unreadable', eventId: null, sealId: null, line: index + 1, detail: (error as Error).message };
    }
    if (recordedAt < rangeStart || recordedAt >= rangeEnd) {
      return { reason: 'out_of_range', eventId: entry.eventId?.toLowerCase() ?? null, sealId: null, line: index + 1 };
    }
    while (sealIndex < seals.length && recordedAt >= seals[sealIndex].rangeEnd) {
      const mismatch = check();
      if (mismatch) return mismatch;
      sealIndex += 1;
    }
    if (sealIndex >= seals.length || recordedAt < seals[sealIndex].rangeStart) {
      return { reason: 'unsealed', eventId: entry.eventId?.toLowerCase() ?? null, sealId: seals[sealIndex]?.id ?? null, line: index + 1 };
    }
    batch.push({ entry, line: index + 1 });
  }
  for (; sealIndex < seals.length; sealIndex += 1) {
    const mismatch = check();
    if (mismatch) return mismatch;
  }
  const first = entryLines.length > 0 ? (JSON.parse(entryLines[0]) as SealedEntry).eventId.toLowerCase() : null;
  const lastId = entryLines.length > 0 ? (JSON.parse(entryLines[entryLines.length - 1]) as SealedEntry).eventId.toLowerCase() : null;
  if (first !== manifest.entries.firstEventId || lastId !== manifest.entries.lastEventId) {
    return manifestMismatch('the first or last event id is not the manifest’s');
  }
  return null;
}

const manifestMismatch = (detail: string): ExportMismatch => ({ reason: 'manifest', eventId: null, sealId: null, line: null, detail });
