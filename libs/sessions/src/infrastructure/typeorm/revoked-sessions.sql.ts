import { schemaSql } from './schema-name';

/** Sessions revoked since $1, for repairing the cache after an outage. */
export const listRevokedSinceSql = schemaSql((s) => `SELECT id, user_id FROM ${s}.sessions WHERE revoked_at >= $1 ORDER BY user_id`);
