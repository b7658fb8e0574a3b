import { runSessionsMigrations } from '@app/sessions';
import { AbstractLogger, DataSource, LogLevel, LogMessage } from 'typeorm';
import { TypeOrmAuditLog } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-audit-log';
import { TypeOrmLoginLockouts } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-login-lockouts';
import { TypeOrmSessionRecords } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-session-records';
import { TypeOrmUserAccounts } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-user-accounts';
import { emptyAuditPartitions, trailIndexName } from '../support/query-plans';
import { sql } from '../support/sql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(120_000);

/** Keeps the statements the adapters send, so their plans can be examined as they are. */
class StatementLog extends AbstractLogger {
  readonly statements: Array<{ query: string; parameters: unknown[] }> = [];
  protected writeLog(_level: LogLevel, _message: LogMessage | LogMessage[]): void {}
  override logQuery(query: string, parameters?: unknown[]): void {
    this.statements.push({ query, parameters: parameters ?? [] });
  }
}

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

const USERS = 20_000;
const SESSIONS = 40_000;
const LOGINS = 40_000;
const LOCKOUTS = 5_000;
const userId = (n: number) => `00000000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

/**
 * The console's reads on a database the size of a small deployment: each goes through the index
 * it was written for and reads no table the size of the users, sessions or audit trail whole.
 */
describe('the console directory reads through indexes', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  const log = new StatementLog();
  const now = new Date();

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = new DataSource({ type: 'postgres', url: database.url, logging: ['query'], logger: log });
    await dataSource.initialize();
    await runSessionsMigrations(dataSource);
    await sql(
      database.url,
      `INSERT INTO users (id, email, password_hash, role, created_at)
       SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'user' || i || '@example.com', 'x', 'user', now()
         FROM generate_series(1, ${USERS}) i;
       INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, revoked_at, revoked_reason)
       SELECT gen_random_uuid(), ('00000000-0000-7000-8000-' || lpad(to_hex(1 + i % ${USERS}), 12, '0'))::uuid,
              now() - (i || ' minutes')::interval, now(), now() + (CASE WHEN i % 10 = 0 THEN '1 day' ELSE '-1 day' END)::interval,
              CASE WHEN i % 7 = 0 THEN now() - (i || ' seconds')::interval END, CASE WHEN i % 7 = 0 THEN 'user_revoked' END
         FROM generate_series(1, ${SESSIONS}) i;
       -- UUIDv7-shaped event ids (time first), as the library makes them, over the last 10 days.
       WITH events AS (
         SELECT i, now() - (i * 20 || ' seconds')::interval AS at, md5(i::text) AS r FROM generate_series(1, ${LOGINS}) i),
       ids AS (
         SELECT i, at, r, lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') AS t FROM events)
       INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, actor_type, details)
       SELECT (substr(t, 1, 8) || '-' || substr(t, 9, 4) || '-7' || substr(r, 1, 3) || '-8' || substr(r, 4, 3) || '-' || substr(r, 7, 12))::uuid,
              gen_random_uuid(), CASE WHEN i % 4 = 0 THEN 'tokens.refresh' ELSE 'user.login' END,
              CASE WHEN i % 2 = 0 THEN 'succeeded' ELSE 'failed' END, at, 'user', '{}'
         FROM ids;
       INSERT INTO login_lockouts (email, network, failed_attempts, locked_at, locked_until, cleared_at)
       SELECT 'user' || (1 + i % ${USERS}) || '@example.com', '192.0.2.' || (i % 250), 10, now() - interval '1 hour',
              now() + (CASE WHEN i % 100 = 0 THEN '10 minutes' ELSE '-30 minutes' END)::interval, CASE WHEN i % 2 = 0 THEN now() END
         FROM generate_series(1, ${LOCKOUTS}) i
       ON CONFLICT DO NOTHING;
       ANALYZE users; ANALYZE sessions; ANALYZE audit_entries; ANALYZE login_lockouts;`,
    );
    // As autovacuum would have by now: the visibility map lets a count read the index alone.
    await sql(database.url, 'VACUUM sessions');
    emptyPartitions = await emptyAuditPartitions(dataSource);
  });

  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await database?.drop();
  });

  /** How many statements the last read sent. */
  let sent = 0;

  /** Runs the read, then EXPLAINs the statement of it that matches `pattern`, with its parameters. */
  async function planOf(read: () => Promise<unknown>, pattern: RegExp): Promise<PlanNode[]> {
    log.statements.length = 0;
    await read();
    sent = log.statements.length;
    const statement = log.statements.find((s) => pattern.test(s.query));
    if (!statement) throw new Error(`no statement matched ${pattern}: ${log.statements.map((s) => s.query).join('\n')}`);
    const [{ 'QUERY PLAN': plan }] = await dataSource.query(`EXPLAIN (FORMAT JSON) ${statement.query}`, statement.parameters);
    return nodes(plan);
  }
  /** The relations read sequentially, but for the trail's empty partitions (read after the data is ANALYZEd). */
  let emptyPartitions = new Set<string>();
  const seqScans = (plan: PlanNode[]) =>
    plan.filter((n) => n['Node Type'] === 'Seq Scan' && !emptyPartitions.has(n['Relation Name'] ?? '')).map((n) => n['Relation Name']);
  const indexes = (plan: PlanNode[]) => plan.flatMap((n) => (n['Index Name'] ? [trailIndexName(n['Index Name'])] : []));

  const users = () => new TypeOrmUserAccounts(() => dataSource.manager);
  const sessions = () => new TypeOrmSessionRecords(() => dataSource.manager);

  it('answers an email prefix from users_email_c_id_idx, its wildcards literal', async () => {
    let found: unknown;
    const plan = await planOf(async () => (found = await users().search({ emailPrefix: 'user1234', limit: 26, now })), /FROM "sessions"\.users u/);
    expect(found).toHaveLength(11); // user1234 and user12340 ... user12349
    expect(seqScans(plan)).not.toContain('users');
    expect(indexes(plan)).toContain('users_email_c_id_idx');
    await expect(users().search({ emailPrefix: 'user1_34', limit: 26, now })).resolves.toEqual([]);
  });

  it('starts a page after its cursor on users_email_c_id_idx', async () => {
    const plan = await planOf(() => users().search({ after: { email: 'user5@example.com', id: userId(5) }, limit: 26, now }), /FROM "sessions"\.users u/);
    expect(seqScans(plan)).not.toContain('users');
    expect(indexes(plan)).toContain('users_email_c_id_idx');
  });

  it("reads a page's sessions by user, in one statement", async () => {
    const ids = Array.from({ length: 25 }, (_, i) => userId(100 + i));
    const plan = await planOf(() => sessions().activityOf(ids, now), /unnest\(\$1::uuid\[\]\)/);
    expect(seqScans(plan)).toEqual([]);
    expect(indexes(plan)).toEqual(expect.arrayContaining(['sessions_user_idx', 'sessions_user_active_idx']));
    expect(sent).toBe(1);
  });

  it('counts live and recently revoked sessions from their indexes', async () => {
    const live = await planOf(() => sessions().countActive(now), /expires_at > \$1/);
    expect(seqScans(live)).toEqual([]);
    expect(indexes(live)).toContain('sessions_live_expiry_idx');
    const revoked = await planOf(() => sessions().countRevokedSince(new Date(now.getTime() - 86_400_000)), /revoked_at >= \$1/);
    expect(seqScans(revoked)).toEqual([]);
    expect(indexes(revoked)).toContain('sessions_revoked_at_idx');
  });

  // The planner takes whichever range is narrower: the action's (action, event_id), the event ids
  // of the window alone (the primary key; UUIDv7 ids are in time order), or the window's
  // occurred_at (the index the audit filters' migration added).
  it('counts the last 24 h of login outcomes through an index range on event_id, exactly', async () => {
    const since = new Date(now.getTime() - 86_400_000);
    let counts: unknown;
    const plan = await planOf(
      async () => (counts = await new TypeOrmAuditLog(dataSource).countOutcomes('user.login', since)),
      /FROM "sessions"\.audit_entries WHERE action = \$1/,
    );
    expect(seqScans(plan)).toEqual([]);
    expect(indexes(plan).some((index) => ['audit_entries_action_idx', 'audit_entries_pkey', 'audit_entries_occurred_at_idx'].includes(index ?? ''))).toBe(true);
    const [expected] = await sql<{ succeeded: number; failed: number }>(
      database.url,
      `SELECT count(*) FILTER (WHERE outcome = 'succeeded')::int AS succeeded, count(*) FILTER (WHERE outcome = 'failed')::int AS failed
         FROM audit_entries WHERE action = 'user.login' AND occurred_at >= $1`,
      [since],
    );
    expect(counts).toEqual(expected);
    expect(expected.succeeded + expected.failed).toBeGreaterThan(0);
  });

  it('lists the lockouts in force from login_lockouts_uncleared_idx', async () => {
    let current: { total: number } | undefined;
    const plan = await planOf(
      async () => (current = await new TypeOrmLoginLockouts(() => dataSource.manager).current(now, 20)),
      /FROM "sessions"\.login_lockouts l/,
    );
    expect(seqScans(plan)).not.toContain('login_lockouts');
    expect(indexes(plan)).toContain('login_lockouts_uncleared_idx');
    const [{ count }] = await sql<{ count: number }>(
      database.url,
      'SELECT count(*)::int AS count FROM login_lockouts WHERE cleared_at IS NULL AND locked_until > $1',
      [now],
    );
    expect(current?.total).toBe(count);
  });
});
