import { type AuditQuery, runSessionsMigrations } from '@app/sessions';
import { AbstractLogger, DataSource, LogLevel, LogMessage } from 'typeorm';
import { TypeOrmAuditLog } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-audit-log';
import { emptyAuditPartitions, trailIndexName } from '../support/query-plans';
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
const HEAVY = 2_000;
const HEAVY_USER = '00000000-0000-7000-8000-ffffffffffff';

interface PlanNode {
  'Node Type': string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
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

/** The relations the plan reads sequentially, but for the empty partitions of audit_entries (see emptyAuditPartitions). */
async function sequentialReads(dataSource: DataSource, planNodes: PlanNode[]): Promise<string[]> {
  const empty = await emptyAuditPartitions(dataSource);
  return planNodes.filter((n) => n['Node Type'] === 'Seq Scan' && !empty.has(n['Relation Name'] ?? '')).map((n) => n['Relation Name'] ?? '');
}

/** The indexes the plan reads, a partition's copy named as the migration named the index (audit_entries_y2026m12_user_idx: audit_entries_user_idx). */
const indexesOf = (planNodes: PlanNode[]) => planNodes.flatMap((n) => (n['Index Name'] ? [trailIndexName(n['Index Name'])] : []));

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
    // One user with HEAVY operations of the same shape: a page must cost the page, not the user's trail.
    await sql(
      database.url,
      `WITH ops AS (SELECT i, gen_random_uuid() AS correlation_id FROM generate_series(1, ${HEAVY}) i)
       INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, user_id, actor_type, details)
       SELECT gen_random_uuid(), correlation_id, 'user.refresh', o.outcome, now(),
              CASE WHEN o.outcome = 'attempted' THEN NULL ELSE '${HEAVY_USER}'::uuid END, 'user', '{}'
         FROM ops, (VALUES ('attempted'), ('succeeded')) AS o(outcome);
       ANALYZE audit_entries; ANALYZE audit_user_entries;`,
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

    const statement = log.statements.find((s) => /FROM "sessions"\.audit_user_entries l\b/.test(s.query))!;
    const [{ 'QUERY PLAN': plan }] = await dataSource.query(`EXPLAIN (FORMAT JSON) ${statement.query}`, statement.parameters);
    const planNodes = nodes(plan);
    await expect(sequentialReads(dataSource, planNodes)).resolves.toEqual([]);
    const indexes = indexesOf(planNodes);
    // The entries that name the user, the links to those that do not (the Attempted), each of
    // those by (event_id, recorded_at) in its partition: never the whole trail per operation.
    expect(indexes).toEqual(expect.arrayContaining(['audit_entries_user_idx', 'audit_user_entries_pkey', 'audit_entries_pkey']));
    expect(indexes).not.toContain('audit_entries_correlation_idx');
    console.log(
      JSON.stringify({
        test: 'audit-query-plan',
        entries: OPERATIONS * 2,
        elapsedMs: Math.round(elapsedMs * 10) / 10,
        plan: planNodes.map((n) => `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''}`),
      }),
    );
  });

  it(`reads a page of a user with ${(HEAVY * 2).toLocaleString('en')} entries, first or deep, in the page's rows, not the user's trail`, async () => {
    const auditLog = new TypeOrmAuditLog(dataSource);
    const everything: Array<{ eventId: string; outcome: string; correlationId: string }> = [];
    let cursor: string | undefined;
    const reads: number[] = [];
    for (let page = 0; page < 8; page += 1) {
      log.statements.length = 0;
      const answer = await auditLog.query({ userId: HEAVY_USER, limit: 50, before: cursor });
      expect(answer.entries).toHaveLength(50);
      everything.push(...answer.entries);
      const statement = log.statements.find((s) => /FROM "sessions"\.audit_user_entries l\b/.test(s.query))!;
      const [{ 'QUERY PLAN': plan }] = await dataSource.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${statement.query}`, statement.parameters);
      // Rows the index scans of the two ranges handed up: the merge stops at the page (51 rows asked).
      reads.push(
        nodes(plan)
          .filter((n) => ['audit_entries_user_idx', 'audit_user_entries_pkey'].includes(trailIndexName(n['Index Name'] ?? '')))
          .reduce((sum, n) => sum + (n['Actual Rows'] ?? 0) * (n['Actual Loops'] ?? 1), 0),
      );
      cursor = answer.nextCursor!;
    }
    expect(Math.max(...reads)).toBeLessThanOrEqual(2 * 51);
    // Newest first, no entry twice, each operation whole (its Attempted names nobody).
    const ids = everything.map((e) => e.eventId);
    expect(ids).toEqual([...ids].sort().reverse());
    expect(new Set(ids).size).toBe(ids.length);
    const [{ newest }] = await sql<{ newest: string[] }>(
      database.url,
      `SELECT array_agg(event_id::text ORDER BY event_id DESC) AS newest FROM (
         SELECT e.event_id FROM audit_entries e WHERE e.correlation_id IN (SELECT correlation_id FROM audit_entries WHERE user_id = $1)
         ORDER BY e.event_id DESC LIMIT 400) top`,
      [HEAVY_USER],
    );
    expect(ids).toEqual(newest);
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
    await expect(sequentialReads(dataSource, planNodes)).resolves.toEqual([]);
    expect(indexesOf(planNodes)).toContain('audit_entries_correlation_idx');
  });
});

/**
 * Every filter of GET /admin/audit (and of its export, which pages through the same statement)
 * alone, over a trail shaped like a busy one: event ids in time order, as UUIDv7 makes them;
 * one failure in twenty operations; thousands of users, sessions and client addresses.
 */
describe('every audit filter is served by an index, or walks one in event order', () => {
  const OPS = 30_000;
  const BASE = Date.parse('2026-01-01T00:00:00Z');
  let database: TestDatabase;
  let dataSource: DataSource;
  const log = new StatementLog();
  /** Ids of the n-th operation's entries: in the order they were made, as UUIDv7 ids are. */
  const hex = (n: number) => n.toString(16).padStart(12, '0');

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = new DataSource({ type: 'postgres', url: database.url, logging: ['query'], logger: log });
    await dataSource.initialize();
    await runSessionsMigrations(dataSource);
    await sql(
      database.url,
      `INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, user_id, actor_type, actor_id, session_id, ip_address, details)
       SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(i * 2 + k), 12, '0'))::uuid,
              ('00000000-0000-7000-9000-' || lpad(to_hex(i), 12, '0'))::uuid,
              'user.login',
              CASE WHEN k = 0 THEN 'attempted' WHEN i % 20 = 0 THEN 'failed' ELSE 'succeeded' END,
              to_timestamp(${BASE / 1000} + i * 10 + k),
              ('00000000-0000-7000-a000-' || lpad(to_hex(i % 3000), 12, '0'))::uuid,
              'user',
              ('00000000-0000-7000-a000-' || lpad(to_hex(i % 3000), 12, '0'))::uuid,
              ('00000000-0000-7000-b000-' || lpad(to_hex(i % 10000), 12, '0'))::uuid,
              '198.51.' || (i % 2000 / 250) || '.' || (i % 250),
              '{}'
         FROM generate_series(1, ${OPS}) i, generate_series(0, 1) k;
       ANALYZE audit_entries;`,
    );
  });

  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await database?.drop();
  });

  const at = (op: number) => new Date(BASE + op * 10_000);

  /** The plan of the page statement the audit log sends for this filter. */
  async function planOf(filter: Omit<AuditQuery, 'limit'>): Promise<{ entries: number; planNodes: PlanNode[] }> {
    log.statements.length = 0;
    const page = await new TypeOrmAuditLog(dataSource).query({ ...filter, limit: 50 });
    const statement = log.statements.find((s) => /FROM "sessions"\.audit_entries a\b/.test(s.query))!;
    const [{ 'QUERY PLAN': plan }] = await dataSource.query(`EXPLAIN (FORMAT JSON) ${statement.query}`, statement.parameters);
    return { entries: page.entries.length, planNodes: nodes(plan) };
  }

  it.each<[string, Omit<AuditQuery, 'limit'>, string]>([
    ['actorId', { actorId: `00000000-0000-7000-a000-${hex(42)}` }, 'audit_entries_actor_idx'],
    ['sessionId', { sessionId: `00000000-0000-7000-b000-${hex(42)}` }, 'audit_entries_session_idx'],
    ['ipAddress', { ipAddress: '198.51.0.42' }, 'audit_entries_ip_address_idx'],
    ['outcome failed (one operation in twenty)', { outcome: 'failed' }, 'audit_entries_failed_idx'],
    // Half of all entries: walking the primary key newest first meets 51 of them within about 100.
    ['outcome succeeded', { outcome: 'succeeded' }, 'audit_entries_pkey'],
    // The planner walks the primary key here too (it assumes times spread evenly over ids: 51 of
    // 600 rows soon), which for an old range reads the newer trail first: the limit documented
    // in docs/api.md (audit filters). The walk is an ordered index read, never a sequential scan.
    ['an old, narrow time range', { from: at(100), to: at(400) }, 'audit_entries_pkey'],
    ['from alone', { from: at(OPS - 1_000) }, 'audit_entries_pkey'],
    ['an old, narrow time range and a frequent outcome', { from: at(100), to: at(400), outcome: 'succeeded' }, 'audit_entries_occurred_at_idx'],
    ['an actor and a time range', { actorId: `00000000-0000-7000-a000-${hex(42)}`, from: at(0), to: at(OPS) }, 'audit_entries_actor_idx'],
  ])('%s', async (_name, filter, index) => {
    const { entries, planNodes } = await planOf(filter);
    expect(entries).toBeGreaterThan(0);
    await expect(sequentialReads(dataSource, planNodes)).resolves.toEqual([]);
    expect(indexesOf(planNodes)).toContain(index);
  });
});
