import { runSessionsMigrations } from '@app/sessions';
import { AbstractLogger, DataSource, LogLevel, LogMessage } from 'typeorm';
import { TypeOrmAuditLog } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-audit-log';
import { sql } from '../support/sql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(120_000);

/** Keeps the statements the audit log sends, so their plans can be examined as they are. */
class StatementLog extends AbstractLogger {
  readonly statements: Array<{ query: string; parameters: unknown[] }> = [];
  protected writeLog(_level: LogLevel, _message: LogMessage | LogMessage[]): void {}
  override logQuery(query: string, parameters?: unknown[]): void {
    this.statements.push({ query, parameters: parameters ?? [] });
  }
}

const OPERATIONS = 40_000;
const USERS = 4_000;
const userId = (n: number) => `00000000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: unknown): PlanNode[] {
  const found: PlanNode[] = [];
  const walk = (node: PlanNode) => {
    found.push(node);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk((plan as Array<{ Plan: PlanNode }>)[0].Plan);
  return found;
}

describe('the per-user audit query returns whole operations through indexes', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  const log = new StatementLog();

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = new DataSource({ type: 'postgres', url: database.url, logging: ['query'], logger: log });
    await dataSource.initialize();
    await runSessionsMigrations(dataSource);
    // Each operation: an Attempted that does not know its user (as login and refresh write it),
    // then a Succeeded that names one of USERS users.
    await sql(
      database.url,
      `WITH ops AS (SELECT i, gen_random_uuid() AS correlation_id FROM generate_series(1, ${OPERATIONS}) i)
       INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, user_id, actor_type, details)
       SELECT gen_random_uuid(), correlation_id, 'user.login', o.outcome, now(),
              CASE WHEN o.outcome = 'attempted' THEN NULL ELSE ('00000000-0000-7000-8000-' || lpad(to_hex(i % ${USERS}), 12, '0'))::uuid END,
              'user', '{}'
         FROM ops, (VALUES ('attempted'), ('succeeded')) AS o(outcome);
       ANALYZE audit_entries;`,
    );
  });

  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await database?.drop();
  });

  it(`answers with every entry of the user's operations and reads no table sequentially, ${(OPERATIONS * 2).toLocaleString('en')} entries stored`, async () => {
    const auditLog = new TypeOrmAuditLog(dataSource);
    log.statements.length = 0;
    const started = performance.now();
    const page = await auditLog.query({ userId: userId(7), limit: 50 });
    const elapsedMs = performance.now() - started;
    expect(page.entries).toHaveLength(2 * (OPERATIONS / USERS));
    const correlations = new Set(page.entries.map((e) => e.correlationId));
    expect(correlations.size).toBe(OPERATIONS / USERS);
    for (const id of correlations)
      expect(
        page.entries
          .filter((e) => e.correlationId === id)
          .map((e) => e.outcome)
          .sort(),
      ).toEqual(['attempted', 'succeeded']);

    const statement = log.statements.find((s) => /FROM "sessions"\.audit_entries a\b/.test(s.query))!;
    const [{ 'QUERY PLAN': plan }] = await dataSource.query(`EXPLAIN (FORMAT JSON) ${statement.query}`, statement.parameters);
    const planNodes = nodes(plan);
    expect(planNodes.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name'])).toEqual([]);
    const indexes = planNodes.map((n) => n['Index Name']).filter(Boolean);
    expect(indexes).toEqual(expect.arrayContaining(['audit_entries_user_idx', 'audit_entries_correlation_idx']));
    console.log(
      JSON.stringify({
        test: 'audit-query-plan',
        entries: OPERATIONS * 2,
        elapsedMs: Math.round(elapsedMs * 10) / 10,
        plan: planNodes.map((n) => `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''}`),
      }),
    );
  });

  it('answers a correlationId query from the correlation index', async () => {
    const auditLog = new TypeOrmAuditLog(dataSource);
    const [{ correlation_id: correlationId }] = await sql<{ correlation_id: string }>(database.url, 'SELECT correlation_id FROM audit_entries LIMIT 1');
    log.statements.length = 0;
    const page = await auditLog.query({ correlationId, limit: 50 });
    expect(page.entries.map((e) => e.outcome).sort()).toEqual(['attempted', 'succeeded']);
    const statement = log.statements.find((s) => /FROM "sessions"\.audit_entries a\b/.test(s.query))!;
    const [{ 'QUERY PLAN': plan }] = await dataSource.query(`EXPLAIN (FORMAT JSON) ${statement.query}`, statement.parameters);
    const planNodes = nodes(plan);
    expect(planNodes.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
    expect(planNodes.map((n) => n['Index Name'])).toContain('audit_entries_correlation_idx');
  });
});
