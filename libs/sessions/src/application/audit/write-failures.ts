import { AuditEntriesRejectedError } from '../ports/audit-log.port';

/**
 * SQLSTATE classes a retry cannot fix: 22 data exception (a value its column cannot hold), 23
 * integrity constraint violation, 42 syntax error or access rule violation (an undefined table or
 * column, a missing privilege: a schema that is not there stays not there).
 */
const PERMANENT_SQLSTATE_CLASSES = new Set(['22', '23', '42']);

/** The SQLSTATE of a driver error: pg's `code`, which TypeORM's QueryFailedError copies (and keeps in `driverError`). */
export function sqlStateOf(error: unknown): string | undefined {
  for (const candidate of [error, (error as { driverError?: unknown } | null)?.driverError]) {
    const code = (candidate as { code?: unknown } | null | undefined)?.code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export function isPermanentSqlState(code: string | undefined): boolean {
  return code !== undefined && PERMANENT_SQLSTATE_CLASSES.has(code.slice(0, 2));
}

/**
 * Whether writing the same entries again must fail again: the audit log said so
 * (AuditEntriesRejectedError), or the database did (a permanent SQLSTATE class). Anything else, a
 * lost connection (08), an administrator shutdown (57P01), insufficient resources (53), a
 * serialization failure (40001), a timeout, may work later.
 */
export function isPermanentWriteFailure(error: unknown): boolean {
  return error instanceof AuditEntriesRejectedError || isPermanentSqlState(sqlStateOf(error));
}
