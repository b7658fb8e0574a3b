import { schemaSql } from './schema-name';

/** $1 instance id. Times are the database's, so instances with skewed clocks agree. */
export const heartbeatInstanceSql = schemaSql(
  (s) => `INSERT INTO ${s}.instances (id, started_at, last_heartbeat_at) VALUES ($1, now(), now())
       ON CONFLICT (id) DO UPDATE SET last_heartbeat_at = now()`,
);

/** Instances silent for $1 seconds. */
export const deleteSilentInstancesSql = schemaSql((s) => `DELETE FROM ${s}.instances WHERE last_heartbeat_at < now() - make_interval(secs => $1)`);
