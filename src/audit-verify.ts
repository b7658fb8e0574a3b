import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_SESSIONS_SCHEMA, verifyAuditSeals } from '@app/sessions';
import { createAppLogger, LOG_LEVELS, type LogLevel } from '@app/runtime';
import { pino } from 'pino';
import { DataSource } from 'typeorm';

/**
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

function range(argv: string[]): { from?: string; to?: string } | string {
  try {
    const { values } = parseArgs({ args: argv, options: { from: { type: 'string' }, to: { type: 'string' } }, strict: true, allowPositionals: false });
    for (const [name, value] of Object.entries(values)) {
      if (value !== undefined && Number.isNaN(Date.parse(value))) return `--${name} must be an ISO 8601 time (got ${JSON.stringify(value)})`;
    }
    // Passed on in UTC (a time written without a zone is read in the local one, as Date reads it).
    const utc = (value: string | undefined) => (value === undefined ? undefined : new Date(value).toISOString());
    return { from: utc(values.from), to: utc(values.to) };
  } catch (error) {
    return (error as Error).message;
  }
}

async function verify(argv: string[]): Promise<number> {
  const bounds = range(argv);
  if (typeof bounds === 'string') {
    err({ msg: 'audit_verify_usage', error: `${bounds}: use [--from ISO] [--to ISO]` });
    return EXIT.refused;
  }
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
