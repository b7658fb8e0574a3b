import { entriesDigest, entryHash, GENESIS_SEAL_HASH, SealedEntry, sealHash, SealFields, unpackLeaves } from './sealed-entry';

/**
 * Why an entry, or a seal, does not match:
 * - `changed`: the entry is there but its columns hash differently from when it was sealed;
 * - `missing`: the seal holds the entry, the table does not (deleted, or moved out of the range);
 * - `unsealed`: the entry lies in a sealed range but no seal holds it (inserted afterwards, or
 *   committed by a transaction that outlasted the settle margin);
 * - `chain_broken`: a seal's own fields or leaf list do not hash to its seal hash, or it does not
 *   link to the seal before it (edited, deleted, or a gap in the ranges). No entry is named.
 */
export type SealMismatchReason = 'changed' | 'missing' | 'unsealed' | 'chain_broken';

export interface SealMismatch {
  readonly eventId: string | null;
  readonly reason: SealMismatchReason;
}

/** One stored seal, as the checks read it: its fields, its leaf list and its stored hash. */
export interface StoredSeal extends SealFields {
  readonly id: string;
  readonly leaves: Buffer;
  readonly sealHash: Buffer;
}

/**
 * Whether the seal is what it says, and follows `previous` (the seal before it, or null when it
 * is the trail's first): its leaf list hashes to its digest, the digest and fields to its hash,
 * and its range starts where the previous one ended.
 */
export function sealIntegrityProblem(seal: StoredSeal, previous: Pick<StoredSeal, 'sealHash' | 'rangeEnd'> | null): SealMismatch | null {
  const broken: SealMismatch = { eventId: null, reason: 'chain_broken' };
  const expectedPrevious = previous?.sealHash ?? GENESIS_SEAL_HASH;
  if (!seal.previousSealHash.equals(expectedPrevious)) return broken;
  if (previous !== null && previous.rangeEnd !== seal.rangeStart) return broken;
  if (seal.leaves.length !== seal.entryCount * 48) return broken;
  if (!entriesDigest(seal.leaves).equals(seal.entriesDigest)) return broken;
  if (!sealHash(seal).equals(seal.sealHash)) return broken;
  return null;
}

/**
 * The first entry of a seal's range that does not match it, or null. `entries` are the entries
 * now found in the range, in (recorded_at, event_id) order; they are compared with the seal's
 * leaves by event id. "First" is by position in the seal: a changed or missing entry at its
 * leaf's place, an unsealed one just after the sealed entry it follows in the table's order.
 */
export function firstEntryMismatch(seal: Pick<StoredSeal, 'leaves'>, entries: Iterable<SealedEntry>): SealMismatch | null {
  const leaves = unpackLeaves(seal.leaves);
  const position = new Map(leaves.map((leaf, index) => [leaf.eventId, index]));
  const seen = new Set<number>();
  let first: { at: number; mismatch: SealMismatch } | null = null;
  const consider = (at: number, mismatch: SealMismatch) => {
    if (first === null || at < first.at) first = { at, mismatch };
  };
  let lastPosition = -1;
  for (const entry of entries) {
    const eventId = entry.eventId.toLowerCase();
    const index = position.get(eventId);
    if (index === undefined || seen.has(index)) {
      consider(lastPosition + 0.5, { eventId, reason: 'unsealed' });
      continue;
    }
    seen.add(index);
    lastPosition = index;
    if (!entryHash(entry).equals(leaves[index].hash)) consider(index, { eventId, reason: 'changed' });
  }
  for (let index = 0; index < leaves.length; index += 1) {
    if (!seen.has(index)) {
      consider(index, { eventId: leaves[index].eventId, reason: 'missing' });
      break;
    }
  }
  return (first as { mismatch: SealMismatch } | null)?.mismatch ?? null;
}
