import { runSessionsMigrations } from '@app/sessions';
import { AbstractLogger, DataSource, LogLevel, LogMessage } from 'typeorm';
import { newRefreshToken } from '../../libs/sessions/src/domain/refresh-token';
import { describeRefreshTokenSql, revokeSessionByRefreshTokenSql } from '../../libs/sessions/src/infrastructure/typeorm/session-records.sql';
import { TypeOrmSessionRecords } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-session-records';
import { TypeOrmUnitOfWork } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-unit-of-work';
import { sql, TEST_SESSIONS_SCHEMA } from '../support/sql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(120_000);

/** Keeps the statements the store sends, so their plans can be examined as they are. */
class StatementLog extends AbstractLogger {
  readonly statements: Array<{ query: string; parameters: unknown[] }> = [];
  protected writeLog(_level: LogLevel, _message: LogMessage | LogMessage[]): void {}
  override logQuery(query: string, parameters?: unknown[]): void {
    this.statements.push({ query, parameters: parameters ?? [] });
  }
}

const STORED_TOKENS = 100_000;

/** Every relation the plan reads with a sequential scan. */
function seqScans(plan: unknown): string[] {
  const found: string[] = [];
  const walk = (node: Record<string, unknown>) => {
    if (node['Node Type'] === 'Seq Scan') found.push(String(node['Relation Name']));
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  walk((plan as Array<{ Plan: Record<string, unknown> }>)[0].Plan);
  return found;
}

describe('logout finds its refresh token with one indexed read', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  const log = new StatementLog();

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = new DataSource({ type: 'postgres', url: database.url, logging: ['query'], logger: log });
    await dataSource.initialize();
    await runSessionsMigrations(dataSource);
    // Many users, each with one session and one refresh token, as a busy deployment holds.
    await sql(
      database.url,
      `INSERT INTO users (id, email, password_hash, role, created_at)
         SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'u' || i || '@example.com', 'x', 'user', now()
           FROM generate_series(1, $1::int) i;
       INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at)
         SELECT ('00000000-0000-7000-9000-' || lpad(to_hex(i), 12, '0'))::uuid, ('00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, now(), now(), now() + interval '1 day'
           FROM generate_series(1, $1::int) i;
       INSERT INTO refresh_tokens (id, session_id, user_id, token_hash, issued_at, expires_at)
         SELECT gen_random_uuid(), ('00000000-0000-7000-9000-' || lpad(to_hex(i), 12, '0'))::uuid, ('00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
                sha256(i::text::bytea), now(), now() + interval '1 day'
           FROM generate_series(1, $1::int) i;
       ANALYZE;`.replace(/\$1::int/g, String(STORED_TOKENS)),
    );
  });

  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await database?.drop();
  });

  it(`reads no table sequentially with ${STORED_TOKENS.toLocaleString('en')} tokens stored`, async () => {
    const unitOfWork = new TypeOrmUnitOfWork(dataSource);
    const sessions = new TypeOrmSessionRecords(() => dataSource.manager);
    const stored = await sql<{ token_hash: Buffer }>(
      database.url,
      `SELECT token_hash FROM refresh_tokens WHERE user_id = '00000000-0000-7000-8000-000000000abc'`,
    );
    log.statements.length = 0;
    const ended = await unitOfWork.inTransaction((tx) =>
      tx.sessions.revokeByRefreshToken(stored[0].token_hash, null, { reason: 'logout', revokedBy: null, at: new Date() }),
    );
    expect(ended).toEqual({ sessionId: '00000000-0000-7000-9000-000000000abc', userId: '00000000-0000-7000-8000-000000000abc' });

    const revoke = log.statements.find((s) => s.query === revokeSessionByRefreshTokenSql(TEST_SESSIONS_SCHEMA));
    expect(revoke).toBeDefined();
    const unknown = newRefreshToken().hash;
    const rows = await dataSource.query(`EXPLAIN (FORMAT JSON) ${revoke!.query}`, [unknown, ...revoke!.parameters.slice(1)]);
    expect(seqScans(rows[0]['QUERY PLAN'])).toEqual([]);

    log.statements.length = 0;
    await sessions.describeRefreshToken(unknown);
    const describe = log.statements.find((s) => s.query === describeRefreshTokenSql(TEST_SESSIONS_SCHEMA))!;
    const describePlan = await dataSource.query(`EXPLAIN (FORMAT JSON) ${describe.query}`, describe.parameters);
    expect(seqScans(describePlan[0]['QUERY PLAN'])).toEqual([]);
  });
});
