import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AUDIT_EXPORT_FILES, DEFAULT_SESSIONS_SCHEMA, verifyAuditExport, verifyAuditSeals } from '@app/sessions';
import { createAppLogger, LOG_LEVELS, type LogLevel } from '@app/runtime';
import { pino } from 'pino';
import { DataSource } from 'typeorm';

/**
 * `npm run audit:verify -- --export DIR [--manifest-sha256 HEX]`: checks the export of a partition
 * that retention dropped, offline (no database, no .env): the manifest's digests and line counts,
 * the seal chain from its anchor, and every entry against its seal, naming the first that does not
 * match (`audit_export_verified` on stdout, exit 0; `audit_export_mismatch` on stderr, exit 3).
 * `--manifest-sha256` is the digest recorded in audit_exports and the `audit.retention` entry.
 *
 * `npm run audit:verify [-- --from ISO] [--to ISO]`: checks the audit trail of DATABASE_URL
 * against its seals (docs/audit.md): every seal whose range meets [from, to), its chain, and each
 * entry now in its range. Reads `.env` like the apps; read-only, so it may run against a replica.
 * Writes one JSON line of result: `audit_seals_verified` (seals, entries, sealedThrough) on stdout,
 * or `audit_seals_mismatch` (the seal, and the first entry that does not match with why) on stderr.
 *
 * Exit codes: 0 every seal checked matched; 1 failed (the database could not be reached or read);
 * 2 not started (no DATABASE_URL, bad arguments); 3 a seal does not match.
 */
const EXIT = { ok: 0, failed: 1, refused: 2, mismatch: 3 } as const;

const level: LogLevel = LOG_LEVELS.includes(process.env.LOG_LEVEL as LogLevel) ? (process.env.LOG_LEVEL as LogLevel) : 'info';
const stdout = createAppLogger({ nodeEnv: 'production', level });
const stderr = createAppLogger({ nodeEnv: 'production', level, destination: pino.destination({ dest: 2, sync: true }) });
const out = ({ msg, ...fields }: { msg: string } & Record<string, unknown>) => stdout.pino.info({ context: 'AuditVerify', ...fields }, msg);
const err = ({ msg, ...fields }: { msg: string } & Record<string, unknown>) => stderr.pino.error({ context: 'AuditVerify', ...fields }, msg);

interface Arguments {
  readonly from?: string;
  readonly to?: string;
  readonly exportDir?: string;
  readonly manifestSha256?: string;
}

function parse(argv: string[]): Arguments | string {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { from: { type: 'string' }, to: { type: 'string' }, export: { type: 'string' }, 'manifest-sha256': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
    for (const name of ['from', 'to'] as const) {
      const value = values[name];
      if (value !== undefined && Number.isNaN(Date.parse(value))) return `--${name} must be an ISO 8601 time (got ${JSON.stringify(value)})`;
    }
    const digest = values['manifest-sha256'];
    if (digest !== undefined && !/^[0-9a-fA-F]{64}$/.test(digest)) return `--manifest-sha256 must be 64 hex digits (got ${JSON.stringify(digest)})`;
    if (values.export !== undefined && (values.from !== undefined || values.to !== undefined)) return '--export checks a whole export: no --from or --to';
    if (digest !== undefined && values.export === undefined) return '--manifest-sha256 goes with --export';
    // Passed on in UTC (a time written without a zone is read in the local one, as Date reads it).
    const utc = (value: string | undefined) => (value === undefined ? undefined : new Date(value).toISOString());
    return { from: utc(values.from), to: utc(values.to), exportDir: values.export, manifestSha256: digest };
  } catch (error) {
    return (error as Error).message;
  }
}

/** The export in `directory`, offline. */
function verifyExport(directory: string, manifestSha256: string | undefined): number {
  const manifestPath = join(directory, AUDIT_EXPORT_FILES.manifest);
  if (!existsSync(manifestPath)) {
    err({ msg: 'audit_verify_usage', error: `${manifestPath} does not exist: --export names the directory of one partition's export` });
    return EXIT.refused;
  }
  const read = (file: string) => (existsSync(join(directory, file)) ? readFileSync(join(directory, file)) : Buffer.alloc(0));
  const result = verifyAuditExport(
    { manifest: read(AUDIT_EXPORT_FILES.manifest), entries: read(AUDIT_EXPORT_FILES.entries), seals: read(AUDIT_EXPORT_FILES.seals) },
    manifestSha256,
  );
  if (result.ok) {
    out({
      msg: 'audit_export_verified',
      directory,
      partition: result.partition,
      entries: result.entries,
      seals: result.seals,
      manifestSha256: result.manifestSha256,
    });
    return EXIT.ok;
  }
  err({
    msg: 'audit_export_mismatch',
    directory,
    partition: result.partition,
    manifestSha256: result.manifestSha256,
    files: result.files,
    firstMismatch: result.firstMismatch,
  });
  return EXIT.mismatch;
}

async function verify(argv: string[]): Promise<number> {
  const parsed = parse(argv);
  if (typeof parsed === 'string') {
    err({ msg: 'audit_verify_usage', error: `${parsed}: use [--from ISO] [--to ISO], or --export DIR [--manifest-sha256 HEX]` });
    return EXIT.refused;
  }
  const { exportDir, manifestSha256, ...bounds } = parsed;
  if (exportDir !== undefined) return verifyExport(exportDir, manifestSha256);
  if (existsSync('.env')) process.loadEnvFile('.env');
  const url = process.env.DATABASE_URL;
  if (!url) {
    err({ msg: 'audit_verify_no_database', error: 'DATABASE_URL is not set: nothing to verify' });
    return EXIT.refused;
  }
  const dataSource = await new DataSource({ type: 'postgres', url, extra: { max: 1, connectionTimeoutMillis: 10_000 } }).initialize();
  try {
    const schema = DEFAULT_SESSIONS_SCHEMA;
    const result = await verifyAuditSeals(dataSource, { schema, ...bounds });
    if (result.ok) {
      out({ msg: 'audit_seals_verified', schema, ...bounds, seals: result.seals, entries: result.entries, sealedThrough: result.sealedThrough });
      return EXIT.ok;
    }
    err({ msg: 'audit_seals_mismatch', schema, ...bounds, sealId: result.sealId, firstMismatch: result.firstMismatch });
    return EXIT.mismatch;
  } finally {
    await dataSource.destroy();
  }
}

verify(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    err({ msg: 'audit_verify_failed', error: (error as Error).message });
    process.exit(EXIT.failed);
  },
);
