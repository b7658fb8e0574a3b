import { DataSource, EntityManager } from 'typeorm';
import { firstEntryMismatch, SealMismatch, sealIntegrityProblem, StoredSeal } from '../../application/audit-seals/seal-check';
import {
  canonicalTimestamp,
  entriesDigest,
  entryHash,
  GENESIS_SEAL_HASH,
  packLeaves,
  SEAL_FORMAT,
  SealedEntry,
  sealHash,
} from '../../application/audit-seals/sealed-entry';
import {
  entriesBeforeSql,
  entriesInRangeSql,
  exportedThroughSql,
  firstSealStartSql,
  insertSealSql,
  lastSealSql,
  sealBeforeSql,
  sealEndSql,
  sealLockName,
  sealsPageSql,
  SETTLED_BEFORE_SQL,
  TRY_SEAL_LOCK_SQL,
} from './audit-seals.sql';
import { DEFAULT_SESSIONS_SCHEMA, sessionsSchemaName } from './schema-name';
import { rowsOf } from './sql-rows';

/**
 * How long after its recorded_at an entry is taken as settled. recorded_at is the inserting
 * transaction's start (now()), not its commit, so an entry can become visible well after the
 * time it carries; a seal covers only entries older than this, far above the longest audit
 * transaction (requests run under a 5 s statement timeout). An entry committed later still into
 * a sealed range is reported `unsealed`, never silently taken in.
 */
export const AUDIT_SEAL_SETTLE_SECONDS = 120;
/** At most this many entries a seal (its leaf list: 48 bytes each, about 480 KB). */
export const AUDIT_SEAL_MAX_ENTRIES = 10_000;
/** At most this many seals a run (a run catches up a backlog in steps; the next run goes on). */
const MAX_SEALS_PER_RUN = 100;
/** Seals read per page while verifying. */
const VERIFY_PAGE = 20;

export interface SealAuditEntriesOptions {
  /** The library's schema (default `sessions`). */
  readonly schema?: string;
  /** Default AUDIT_SEAL_SETTLE_SECONDS. */
  readonly settleSeconds?: number;
  /** Default AUDIT_SEAL_MAX_ENTRIES. */
  readonly maxEntriesPerSeal?: number;
  /** Default 100. */
  readonly maxSeals?: number;
}

/** What one sealing run did. */
export interface AuditSealRun {
  /** Another sealer held the lock: this run sealed nothing, and needed not. */
  readonly lockedElsewhere: boolean;
  readonly seals: ReadonlyArray<{
    readonly id: string;
    readonly rangeStart: string;
    readonly rangeEnd: string;
    readonly entryCount: number;
    readonly sealHash: string;
  }>;
}

/**
 * Seals the settled entries since the last seal, one seal per transaction, each under the
 * sealer's advisory lock (a second sealer at the same moment finds it taken and stops: each entry
 * is sealed once; the unique range start backs this up). Nothing here is on the insert path:
 * appends never wait for a seal, and a seal reads only committed rows.
 */
export async function sealAuditEntries(dataSource: DataSource, options: SealAuditEntriesOptions = {}): Promise<AuditSealRun> {
  const schema = sessionsSchemaName(options.schema ?? DEFAULT_SESSIONS_SCHEMA);
  const settleSeconds = options.settleSeconds ?? AUDIT_SEAL_SETTLE_SECONDS;
  const maxEntries = options.maxEntriesPerSeal ?? AUDIT_SEAL_MAX_ENTRIES;
  const seals: Array<AuditSealRun['seals'][number]> = [];
  // One bound for the whole run: each seal's transaction has its own now(), and a bound that moved
  // on with it would make the run chase the clock.
  const [{ settledBefore }] = await rowsOf<{ settledBefore: string }>(dataSource.manager, SETTLED_BEFORE_SQL, [settleSeconds]);
  for (let run = 0; run < (options.maxSeals ?? MAX_SEALS_PER_RUN); run += 1) {
    const step = await dataSource.transaction((manager) => sealOnce(manager, schema, settledBefore, maxEntries));
    if (step === 'locked') return { lockedElsewhere: true, seals };
    if (step === null) break;
    seals.push(step);
  }
  return { lockedElsewhere: false, seals };
}

async function sealOnce(manager: EntityManager, schema: string, settledBefore: string, maxEntries: number) {
  const [{ locked }] = await rowsOf<{ locked: boolean }>(manager, TRY_SEAL_LOCK_SQL, [sealLockName(schema)]);
  if (!locked) return 'locked' as const;
  const [last] = await rowsOf<{ rangeEnd: string; sealHash: Buffer }>(manager, lastSealSql(schema), []);
  const rangeStart = last?.rangeEnd ?? (await rowsOf<{ rangeStart: string | null }>(manager, firstSealStartSql(schema), [settledBefore]))[0]?.rangeStart;
  if (!rangeStart) return null;
  const [{ rangeEnd, closesDay }] = await rowsOf<{ rangeEnd: string | null; closesDay: boolean }>(manager, sealEndSql(schema), [
    rangeStart,
    settledBefore,
    maxEntries,
  ]);
  if (rangeEnd === null) return null;
  const entries = await rowsOf<SealedEntry>(manager, entriesInRangeSql(schema), [rangeStart, rangeEnd]);
  if (entries.length === 0 && !closesDay) return null;
  const leaves = packLeaves(entries.map((entry) => ({ eventId: entry.eventId, hash: entryHash(entry) })));
  const fields = {
    format: SEAL_FORMAT,
    rangeStart,
    rangeEnd,
    entryCount: entries.length,
    entriesDigest: entriesDigest(leaves),
    previousSealHash: last?.sealHash ?? GENESIS_SEAL_HASH,
  };
  const hash = sealHash(fields);
  const [{ id }] = await rowsOf<{ id: string }>(manager, insertSealSql(schema), [
    fields.format,
    rangeStart,
    rangeEnd,
    fields.entryCount,
    fields.entriesDigest,
    leaves,
    fields.previousSealHash,
    hash,
  ]);
  return { id, rangeStart, rangeEnd, entryCount: entries.length, sealHash: hash.toString('hex') };
}

export interface VerifyAuditSealsOptions {
  readonly schema?: string;
  /** Check the seals whose range meets [from, to); unbounded when absent. */
  readonly from?: Date | string;
  readonly to?: Date | string;
}

/** Every seal of the range matched its entries and its chain. */
export interface AuditSealsVerified {
  readonly ok: true;
  readonly seals: number;
  readonly entries: number;
  /** The end of the last seal checked: entries recorded since are not sealed yet. Null when no seal. */
  readonly sealedThrough: string | null;
}

/** The first seal, in chain order, that does not match, and the first entry of it that does not (null eventId for chain_broken). */
export interface AuditSealsMismatch {
  readonly ok: false;
  readonly sealId: string;
  readonly firstMismatch: SealMismatch;
}

export type AuditSealsVerification = AuditSealsVerified | AuditSealsMismatch;

/**
 * Checks the seals whose range meets [from, to), in chain order: each seal's hash over its own
 * fields and leaf list and its link to the seal before it, then the entries now recorded in its
 * range against its leaves (unless retention has dropped that range: its export holds them). Stops at the first seal that does not match. Read-only, no lock; a
 * seal written meanwhile is simply checked or not.
 */
export async function verifyAuditSeals(dataSource: DataSource, options: VerifyAuditSealsOptions = {}): Promise<AuditSealsVerification> {
  const schema = sessionsSchemaName(options.schema ?? DEFAULT_SESSIONS_SCHEMA);
  const bound = (value: Date | string | undefined) => (value === undefined ? null : canonicalTimestamp(value));
  const manager = dataSource.manager;
  let previous: Pick<StoredSeal, 'sealHash' | 'rangeEnd'> | null | undefined;
  let afterId = '0';
  let seals = 0;
  let entries = 0;
  let sealedThrough: string | null = null;
  const [{ exportedThrough }] = await rowsOf<{ exportedThrough: string | null }>(manager, exportedThroughSql(schema), []);
  for (;;) {
    const page = await rowsOf<StoredSeal>(manager, sealsPageSql(schema), [bound(options.from), bound(options.to), afterId, VERIFY_PAGE]);
    for (const seal of page) {
      if (previous === undefined) {
        previous = (await rowsOf<Pick<StoredSeal, 'sealHash' | 'rangeEnd'>>(manager, sealBeforeSql(schema), [seal.id]))[0] ?? null;
        if (previous === null) {
          // The trail's first seal: nothing may be recorded before it began.
          const [early] = await rowsOf<{ eventId: string }>(manager, entriesBeforeSql(schema), [seal.rangeStart]);
          if (early) return { ok: false, sealId: seal.id, firstMismatch: { eventId: early.eventId, reason: 'unsealed' } };
        }
      }
      const broken = sealIntegrityProblem(seal, previous);
      if (broken) return { ok: false, sealId: seal.id, firstMismatch: broken };
      if (exportedThrough !== null && seal.rangeEnd <= exportedThrough) {
        // Its entries were exported and dropped by retention: the export is checked offline (verifyAuditExport).
        seals += 1;
        sealedThrough = seal.rangeEnd;
        previous = seal;
        afterId = seal.id;
        continue;
      }
      const found = await rowsOf<SealedEntry>(manager, entriesInRangeSql(schema), [seal.rangeStart, seal.rangeEnd]);
      const mismatch = firstEntryMismatch(seal, found);
      if (mismatch) return { ok: false, sealId: seal.id, firstMismatch: mismatch };
      seals += 1;
      entries += seal.entryCount;
      sealedThrough = seal.rangeEnd;
      previous = seal;
      afterId = seal.id;
    }
    if (page.length < VERIFY_PAGE) break;
  }
  return { ok: true, seals, entries, sealedThrough };
}
