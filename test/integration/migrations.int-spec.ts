import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { EMBEDDED_POSTGRES_POOL_SIZE, startEmbeddedPostgres } from '@app/platform';
import { assertSessionsMigrated, revertLastSessionsMigration, runSessionsMigrations, SessionsMigrationRefused, sessionsMigrationStatus } from '@app/sessions';
import { SessionsConfigurationError } from '../../libs/sessions/src/domain/sessions-error';
import { SessionsMigration } from '../../libs/sessions/src/infrastructure/typeorm/migrations/sessions-migration';
import { SESSIONS_MIGRATIONS } from '../../libs/sessions/src/infrastructure/typeorm/schema';
import { runMigrationList } from '../../libs/sessions/src/infrastructure/typeorm/sessions-migrations';
import { schemaSettingsOf, SessionsSchemaMigrator } from '../../libs/sessions/src/infrastructure/typeorm/sessions-schema.provider';
import { resolveSessionsOptions, type SessionsModuleOptions } from '../../libs/sessions/src/sessions.options';
import { TypeOrmUnitOfWork } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-unit-of-work';
import { TypeOrmUserAccounts } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-user-accounts';
import { SESSIONS_0_1_MIGRATIONS } from '../fixtures/sessions-0.1';
import { sql } from '../support/sql';
import { createTestDatabase, TestDatabase } from '../support/test-database';

jest.setTimeout(60_000);

const ALL = SESSIONS_MIGRATIONS.map((migration) => migration.name);
/** What release 0.1 shipped; the rest came after it. */
const OF_0_1 = SESSIONS_0_1_MIGRATIONS.map((Migration) => new Migration().name);
const SINCE_0_1 = ALL.slice(OF_0_1.length);
/** How sessionsMigrationStatus lists migrations that ran: each with when. */
const ran = (names: readonly string[]) => names.map((name) => ({ name, runAt: expect.any(Date) }));
const LIBRARY_TABLES = [
  'audit_entries',
  'audit_entry_keys',
  'audit_exports',
  'audit_seals',
  'audit_user_entries',
  'cache_marker_outbox',
  'cache_namespaces',
  'instances',
  'login_lockouts',
  'migrations',
  'refresh_tokens',
  'revocation_feed',
  'sessions',
  'users',
];

/** Slow enough that two instances starting together overlap. */
const CreateWidgets1700000000000: SessionsMigration = {
  name: 'CreateWidgets1700000000000',
  async up(q, s) {
    await q.query(`CREATE TABLE ${s}.widgets (id int PRIMARY KEY)`);
    await q.query('SELECT pg_sleep(0.5)');
    await q.query(`INSERT INTO ${s}.widgets VALUES (1)`);
  },
  async down(q, s) {
    await q.query(`DROP TABLE ${s}.widgets`);
  },
};

/** Three statements of 0.3 s: each one is quick, all together they take longer than a request may. */
const SlowSteps1700000000003: SessionsMigration = {
  name: 'SlowSteps1700000000003',
  async up(q) {
    for (let step = 0; step < 3; step++) await q.query('SELECT pg_sleep(0.3)');
  },
  async down() {},
};

const AddGadgets1700000000001: SessionsMigration = {
  name: 'AddGadgets1700000000001',
  async up(q, s) {
    await q.query(`CREATE TABLE ${s}.gadgets (id int PRIMARY KEY)`);
  },
  async down(q, s) {
    await q.query(`DROP TABLE ${s}.gadgets`);
  },
};

const Broken1700000000002: SessionsMigration = {
  name: 'Broken1700000000002',
  async up(q, s) {
    await q.query(`CREATE TABLE ${s}.half_done (id int)`);
    await q.query('SELECT * FROM no_such_table');
  },
  async down() {},
};

/** A migration of the host's own, run by the host's TypeORM into the host's `public.migrations`. */
class HostUsers1600000000000 implements MigrationInterface {
  name = 'HostUsers1600000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE users (id serial PRIMARY KEY, display_name text NOT NULL, sessions_user_id uuid)');
    await q.query(`INSERT INTO users (display_name) VALUES ('host row')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE users');
  }
}

/** A host migration beside 0.1's (whose users table was public.users, so the host's tables had other names then). */
class HostProfiles1600000000000 implements MigrationInterface {
  name = 'HostProfiles1600000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE host_profiles (id serial PRIMARY KEY)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE host_profiles');
  }
}

/** An app instance as a host builds it: one pool, with request-sized timeouts, and no entities of the library's. */
async function instance(url: string, extra: Record<string, unknown> = {}): Promise<DataSource> {
  return new DataSource({ type: 'postgres', url, extra: { max: 1, connectionTimeoutMillis: 5_000, ...extra } }).initialize();
}

/** In this test's database only: pg_locks is server-wide, and other test files take advisory locks of their own. */
async function advisoryLocksHeld(url: string): Promise<number> {
  const [row] = await sql<{ count: number }>(
    url,
    "SELECT count(*)::int AS count FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
  );
  return row.count;
}

/** The tables of `schema`, partitions left out (audit_entries' months come and go: test/integration/audit-partitions.int-spec.ts). */
async function tablesIn(url: string, schema: string): Promise<string[]> {
  const rows = await sql<{ name: string }>(
    url,
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'f') AND NOT c.relispartition ORDER BY 1`,
    [schema],
  );
  return rows.map((row) => row.name);
}

describe('the sessions migration runner against PostgreSQL', () => {
  let database: TestDatabase;
  const dataSources: DataSource[] = [];

  beforeEach(async () => {
    database = await createTestDatabase();
  });

  afterEach(async () => {
    await Promise.all(dataSources.splice(0).map((dataSource) => dataSource.destroy()));
    await database.drop();
  });

  async function start(extra?: Record<string, unknown>): Promise<DataSource> {
    const dataSource = await instance(database.url, extra);
    dataSources.push(dataSource);
    return dataSource;
  }

  it('lets two instances started together run the migrations once, one after the other', async () => {
    const [first, second] = await Promise.all([start(), start()]);

    const results = await Promise.all([runMigrationList(first, [CreateWidgets1700000000000]), runMigrationList(second, [CreateWidgets1700000000000])]);

    // One of them ran it; the other waited, then found nothing pending.
    expect(results.map((result) => result.executed).sort()).toEqual([[], ['CreateWidgets1700000000000']]);
    await expect(sql(database.url, 'SELECT id FROM sessions.widgets')).resolves.toEqual([{ id: 1 }]);
    await expect(sql(database.url, 'SELECT timestamp, name FROM sessions.migrations')).resolves.toEqual([
      { timestamp: '1700000000000', name: 'CreateWidgets1700000000000' },
    ]);
    await expect(advisoryLocksHeld(database.url)).resolves.toBe(0);
  });

  // The control: the same race without the lock does go wrong, so the test above can fail.
  it('races without the lock: one of two instances fails', async () => {
    const [first, second] = await Promise.all([start(), start()]);

    const results = await Promise.allSettled([
      runMigrationList(first, [CreateWidgets1700000000000], { lock: false }),
      runMigrationList(second, [CreateWidgets1700000000000], { lock: false }),
    ]);

    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('takes one lock per schema: instances of two schemas in one database do not wait on each other', async () => {
    const [first, second] = await Promise.all([start(), start()]);
    const started = Date.now();
    await Promise.all([
      runMigrationList(first, [CreateWidgets1700000000000], { schema: 'tenant_a' }),
      runMigrationList(second, [CreateWidgets1700000000000], { schema: 'tenant_b' }),
    ]);
    // Each waits 0.5 s in its migration; one after the other would take 1 s or more.
    expect(Date.now() - started).toBeLessThan(950);
    await expect(
      sql(database.url, 'SELECT (SELECT count(*)::int FROM tenant_a.widgets) AS a, (SELECT count(*)::int FROM tenant_b.widgets) AS b'),
    ).resolves.toEqual([{ a: 1, b: 1 }]);
  });

  it('exempts migrations from statement_timeout, waits beyond query_timeout, and leaves both as they were', async () => {
    // statement_timeout is below one step; query_timeout (client-side) is above one step, below the whole wait.
    const timeouts = { statement_timeout: 200, query_timeout: 500, idle_in_transaction_session_timeout: 200 };
    const [first, second] = await Promise.all([start(timeouts), start(timeouts)]);

    const started = Date.now();
    const results = await Promise.all([runMigrationList(first, [SlowSteps1700000000003]), runMigrationList(second, [SlowSteps1700000000003])]);

    expect(results.flatMap((result) => result.executed)).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThan(900);
    // The SET LOCALs ended with the migration transaction.
    await expect(first.query('SHOW statement_timeout')).resolves.toEqual([{ statement_timeout: '200ms' }]);
    await expect(first.query('SELECT pg_sleep(0.3)')).rejects.toThrow(/statement timeout/);
  });

  it('needs a single connection, and runs only what is pending', async () => {
    const dataSource = await start();
    await expect(runMigrationList(dataSource, [CreateWidgets1700000000000])).resolves.toEqual({ executed: ['CreateWidgets1700000000000'], adopted: [] });

    const executed = await runMigrationList(dataSource, [CreateWidgets1700000000000, AddGadgets1700000000001]);
    expect(executed.executed).toEqual(['AddGadgets1700000000001']);
    await expect(runMigrationList(dataSource, [CreateWidgets1700000000000, AddGadgets1700000000001])).resolves.toEqual({ executed: [], adopted: [] });
  });

  it('reverts the last migration but never the one that created the schema, whose undo would drop the audit trail', async () => {
    const dataSource = await start();
    await runMigrationList(dataSource, SESSIONS_MIGRATIONS.slice(0, 2));
    await sql(
      database.url,
      `INSERT INTO sessions.users (id, email, password_hash, role, created_at) VALUES ('00000000-0000-7000-8000-000000000001', 'kept@example.com', 'x', 'user', now())`,
    );
    const status = await sessionsMigrationStatus(dataSource);
    expect(status.applied.map((migration) => migration.name)).toEqual(ALL.slice(0, 2));
    expect(status.applied.every((migration) => migration.runAt instanceof Date)).toBe(true);

    await expect(revertLastSessionsMigration(dataSource)).resolves.toBe(ALL[1]);
    const refused = revertLastSessionsMigration(dataSource);
    await expect(refused).rejects.toBeInstanceOf(SessionsMigrationRefused);
    await expect(refused).rejects.toMatchObject({ code: 'migration_refused', migration: ALL[0] });
    expect(await sql(database.url, 'SELECT email FROM sessions.users')).toEqual([{ email: 'kept@example.com' }]);
    expect((await sessionsMigrationStatus(dataSource)).applied.map((migration) => migration.name)).toEqual([ALL[0]]);
  });

  it('rolls everything back when a migration fails, and releases the lock', async () => {
    const dataSource = await start();

    await expect(runMigrationList(dataSource, [AddGadgets1700000000001, Broken1700000000002])).rejects.toThrow(/no_such_table/);

    // Not even the schema survives: it was created in the same transaction.
    await expect(sql(database.url, "SELECT to_regnamespace('sessions') AS schema")).resolves.toEqual([{ schema: null }]);
    await expect(advisoryLocksHeld(database.url)).resolves.toBe(0);
    // The connection went back to the pool in a usable state.
    await expect(dataSource.query('SELECT 1 AS ok')).resolves.toEqual([{ ok: 1 }]);
  });

  it('puts every table of the library in its own schema, its history in its own table, and leaves the host’s users and migrations alone', async () => {
    const host = await new DataSource({ type: 'postgres', url: database.url, migrations: [HostUsers1600000000000] }).initialize();
    dataSources.push(host);
    await host.runMigrations();

    await expect(runSessionsMigrations(host)).resolves.toEqual({ executed: ALL, adopted: [] });

    await expect(tablesIn(database.url, 'sessions')).resolves.toEqual(LIBRARY_TABLES);
    await expect(tablesIn(database.url, 'public')).resolves.toEqual(['migrations', 'users']);
    await expect(sql(database.url, 'SELECT name FROM public.migrations')).resolves.toEqual([{ name: 'HostUsers1600000000000' }]);
    await expect(sql(database.url, 'SELECT id, display_name FROM public.users')).resolves.toEqual([{ id: 1, display_name: 'host row' }]);
    await expect(sql(database.url, 'SELECT name FROM sessions.migrations ORDER BY id')).resolves.toEqual(ALL.map((name) => ({ name })));
    // The append-only trigger and its function are the library's too.
    await expect(
      sql(database.url, `SELECT n.nspname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = 'audit_entries_reject_change'`),
    ).resolves.toEqual([{ nspname: 'sessions' }]);
    // The host's TypeORM still sees only its own history.
    await expect(host.showMigrations()).resolves.toBe(false);
  });

  it('works in a schema the host names, beside another one, with statements that never lean on search_path', async () => {
    const dataSource = await start();
    await runSessionsMigrations(dataSource, { schema: 'custom_x' });
    await runSessionsMigrations(dataSource, { schema: 'other_y' });
    await expect(sql(database.url, "SELECT to_regnamespace('sessions') IS NULL AS absent")).resolves.toEqual([{ absent: true }]);
    await expect(tablesIn(database.url, 'custom_x')).resolves.toEqual(LIBRARY_TABLES);
    // The library's connection has the default search_path ("$user", public): only qualified names can work.
    await expect(dataSource.query('SHOW search_path')).resolves.toEqual([{ search_path: '"$user", public' }]);

    const unitOfWork = new TypeOrmUnitOfWork(dataSource, 'custom_x');
    const users = new TypeOrmUserAccounts(() => unitOfWork.current(), 'custom_x');
    const userId = '00000000-0000-7000-8000-0000000000c1';
    await unitOfWork.inTransaction(async (tx) => {
      await tx.users.insert({ id: userId, email: 'x@example.com', passwordHash: 'h', role: 'user', createdAt: new Date() });
      await tx.sessions.insert({
        id: '00000000-0000-7000-9000-0000000000c1',
        userId,
        createdAt: new Date(),
        expiresAt: new Date(Date.now() + 60_000),
        ipAddress: null,
        userAgent: null,
      });
    });
    await expect(users.findByEmail('x@example.com')).resolves.toMatchObject({ id: userId, email: 'x@example.com', passwordHash: 'h', role: 'user' });
    await expect(unitOfWork.inTransaction((tx) => tx.sessions.revokeAll(userId, null, { reason: 'r', revokedBy: null, at: new Date() }))).resolves.toEqual([
      '00000000-0000-7000-9000-0000000000c1',
    ]);
    await expect(sql(database.url, 'SELECT (SELECT count(*)::int FROM custom_x.users) AS x, (SELECT count(*)::int FROM other_y.users) AS y')).resolves.toEqual([
      { x: 1, y: 0 },
    ]);
  });

  it.each(['public', 'pg_sessions', 'information_schema', 'Sessions', 'sessions; DROP TABLE users', '', 'a'.repeat(64)])(
    'refuses the schema %p before touching the database',
    async (schema) => {
      const dataSource = await start();
      await expect(runSessionsMigrations(dataSource, { schema })).rejects.toThrow(SessionsConfigurationError);
      await expect(
        sql(
          database.url,
          "SELECT count(*)::int AS count FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('public', 'information_schema')",
        ),
      ).resolves.toEqual([{ count: 0 }]);
    },
  );

  it('migrates at module start-up by default, and in verify mode refuses to start while a migration is pending', async () => {
    const dataSource = await start();
    // The options as the module resolves them (defaults applied, the schema checked).
    const options = (extra: SessionsModuleOptions) => resolveSessionsOptions({ accessTokenSecret: 'a-secret-of-at-least-thirty-two-chars', ...extra });
    const verifying = new SessionsSchemaMigrator(dataSource, schemaSettingsOf(options({ schema: 'custom_x', migrations: 'verify' })));
    await expect(verifying.onModuleInit()).rejects.toThrow(/Sessions migrations pending in schema "custom_x"/);

    await new SessionsSchemaMigrator(dataSource, schemaSettingsOf(options({ schema: 'custom_x' }))).onModuleInit();
    await expect(sql(database.url, 'SELECT count(*)::int AS count FROM custom_x.migrations')).resolves.toEqual([{ count: ALL.length }]);
    await expect(verifying.onModuleInit()).resolves.toBeUndefined();
    expect(schemaSettingsOf(options({}))).toEqual({ schema: 'sessions', migrations: 'run' });
    expect(() => schemaSettingsOf(options({ schema: 'public' }))).toThrow(SessionsConfigurationError);
  });

  it('tells a host that runs the migrations before deploying what is pending (verify)', async () => {
    const dataSource = await start();
    await expect(sessionsMigrationStatus(dataSource)).resolves.toEqual({ applied: [], pending: ALL, inPublic: [] });
    const refused = assertSessionsMigrated(dataSource);
    await expect(refused).rejects.toThrow(SessionsConfigurationError);
    await expect(refused).rejects.toThrow(
      /Sessions migrations pending in schema "sessions": InitialSchema1764000000000, .*OneLiveRefreshTokenAndInstances1764000000600/,
    );
    // Verifying writes nothing.
    await expect(sql(database.url, "SELECT to_regnamespace('sessions') IS NULL AS absent")).resolves.toEqual([{ absent: true }]);

    await runMigrationList(dataSource, SESSIONS_MIGRATIONS.slice(0, 5));
    await expect(sessionsMigrationStatus(dataSource)).resolves.toEqual({ applied: ran(ALL.slice(0, 5)), pending: ALL.slice(5), inPublic: [] });
    await runSessionsMigrations(dataSource);
    await expect(assertSessionsMigrated(dataSource)).resolves.toBeUndefined();
  });
});

describe('a database of release 0.1 (tables in public, history in public.migrations)', () => {
  let database: TestDatabase;
  const dataSources: DataSource[] = [];
  const userId = '00000000-0000-7000-8000-000000000001';
  const sessionId = '00000000-0000-7000-9000-000000000001';

  /** The 0.1 layout, built by the 0.1 migrations themselves through the host's TypeORM, next to a migration of the host's. */
  async function build01(migrations: Array<new () => MigrationInterface>): Promise<DataSource> {
    const host = await new DataSource({
      type: 'postgres',
      url: database.url,
      migrations: [HostProfiles1600000000000, ...migrations],
      migrationsTransactionMode: 'all',
    }).initialize();
    dataSources.push(host);
    await host.runMigrations();
    return host;
  }

  beforeEach(async () => {
    database = await createTestDatabase();
  });

  afterEach(async () => {
    await Promise.all(dataSources.splice(0).map((dataSource) => dataSource.destroy()));
    await database.drop();
  });

  async function seed01(): Promise<void> {
    await sql(
      database.url,
      `INSERT INTO public.users (id, email, password_hash, role, created_at) VALUES ('${userId}', 'old@example.com', 'hash', 'admin', '2026-01-01T00:00:00Z');
       INSERT INTO public.sessions (id, user_id, created_at, last_seen_at, expires_at, ip_address) VALUES ('${sessionId}', '${userId}', now(), now(), now() + interval '1 day', '192.0.2.1');
       INSERT INTO public.refresh_tokens (id, session_id, user_id, token_hash, issued_at, expires_at) VALUES (gen_random_uuid(), '${sessionId}', '${userId}', sha256('old'), now(), now() + interval '1 day');
       INSERT INTO public.audit_entries (event_id, correlation_id, action, outcome, occurred_at, user_id, actor_type, details) VALUES
         ('00000000-0000-7000-a000-000000000001', '00000000-0000-7000-b000-000000000001', 'user.login', 'attempted', now(), NULL, 'user', '{}'),
         ('00000000-0000-7000-a000-000000000002', '00000000-0000-7000-b000-000000000001', 'user.login', 'succeeded', now(), '${userId}', 'user', '{}');`,
    );
  }

  it('is moved into the library’s schema with every row, its history, its trigger and its sequences', async () => {
    const host = await build01(SESSIONS_0_1_MIGRATIONS);
    await seed01();
    await sql(
      database.url,
      `INSERT INTO public.cache_marker_outbox (namespace, user_id, session_id) VALUES ('ns', '${userId}', '${sessionId}'), ('ns', '${userId}', '${sessionId}')`,
    );
    await sql(database.url, `INSERT INTO public.instances (id, started_at, last_heartbeat_at) VALUES (gen_random_uuid(), now(), now())`);
    const before = await sql<{ name: string; timestamp: string }>(
      database.url,
      `SELECT name, timestamp FROM public.migrations WHERE name <> 'HostProfiles1600000000000' ORDER BY id`,
    );
    expect(before.map((row) => row.name)).toEqual(OF_0_1);
    expect(ALL.slice(0, OF_0_1.length)).toEqual(OF_0_1);

    await expect(sessionsMigrationStatus(host)).resolves.toEqual({ applied: [], pending: SINCE_0_1, inPublic: OF_0_1 });
    await expect(assertSessionsMigrated(host)).rejects.toThrow(/still in schema public/);

    await expect(runSessionsMigrations(host)).resolves.toEqual({ executed: SINCE_0_1, adopted: OF_0_1 });

    await expect(tablesIn(database.url, 'public')).resolves.toEqual(['host_profiles', 'migrations']);
    await expect(tablesIn(database.url, 'sessions')).resolves.toEqual(LIBRARY_TABLES);
    // The host keeps its own history; the library's moved, timestamps and order kept.
    await expect(sql(database.url, 'SELECT name FROM public.migrations')).resolves.toEqual([{ name: 'HostProfiles1600000000000' }]);
    await expect(sql(database.url, `SELECT name, timestamp FROM sessions.migrations WHERE name = ANY($1) ORDER BY id`, [OF_0_1])).resolves.toEqual(before);
    // Every row is still there.
    await expect(sql(database.url, 'SELECT id, email, role FROM sessions.users')).resolves.toEqual([{ id: userId, email: 'old@example.com', role: 'admin' }]);
    await expect(sql(database.url, `SELECT id, ip_address FROM sessions.sessions`)).resolves.toEqual([{ id: sessionId, ip_address: '192.0.2.1' }]);
    await expect(sql(database.url, `SELECT count(*)::int AS count FROM sessions.refresh_tokens WHERE token_hash = sha256('old')`)).resolves.toEqual([
      { count: 1 },
    ]);
    await expect(sql(database.url, 'SELECT outcome FROM sessions.audit_entries ORDER BY event_id')).resolves.toEqual([
      { outcome: 'attempted' },
      { outcome: 'succeeded' },
    ]);
    await expect(sql(database.url, 'SELECT count(*)::int AS count FROM sessions.instances')).resolves.toEqual([{ count: 1 }]);
    // The outbox's sequence came along and goes on counting.
    const [{ id }] = await sql<{ id: string }>(
      database.url,
      `INSERT INTO sessions.cache_marker_outbox (namespace, user_id, session_id) VALUES ('ns', '${userId}', '${sessionId}') RETURNING id`,
    );
    expect(id).toBe('3');
    await expect(sql(database.url, `SELECT to_regclass('sessions.cache_marker_outbox_id_seq') IS NOT NULL AS moved`)).resolves.toEqual([{ moved: true }]);
    // The trail is still append-only, by the function now in the library's schema.
    await expect(sql(database.url, `UPDATE sessions.audit_entries SET reason = 'x'`)).rejects.toMatchObject({ code: '42501' });
    await expect(sql(database.url, `TRUNCATE sessions.audit_entries`)).rejects.toMatchObject({ code: '42501' });
    await expect(
      sql(database.url, `SELECT n.nspname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = 'audit_entries_reject_change'`),
    ).resolves.toEqual([{ nspname: 'sessions' }]);
    // And the library works on it.
    await expect(new TypeOrmUserAccounts(() => host.manager).findByEmail('old@example.com')).resolves.toMatchObject({ id: userId, role: 'admin' });
    await expect(runSessionsMigrations(host)).resolves.toEqual({ executed: [], adopted: [] });
  });

  it('adopts a 0.1 database that was not fully migrated, then runs the rest in the schema', async () => {
    const host = await build01(SESSIONS_0_1_MIGRATIONS.slice(0, 5));
    await seed01();

    await expect(sessionsMigrationStatus(host)).resolves.toEqual({ applied: [], pending: ALL.slice(5), inPublic: OF_0_1.slice(0, 5) });
    await expect(runSessionsMigrations(host)).resolves.toEqual({ executed: ALL.slice(5), adopted: ALL.slice(0, 5) });
    await expect(sql(database.url, 'SELECT name FROM sessions.migrations ORDER BY id')).resolves.toEqual(ALL.map((name) => ({ name })));
    await expect(sql(database.url, 'SELECT email, email_as_registered FROM sessions.users')).resolves.toEqual([
      { email: 'old@example.com', email_as_registered: null },
    ]);
    await expect(tablesIn(database.url, 'public')).resolves.toEqual(['host_profiles', 'migrations']);
  });

  it('is adopted once when two instances of the new release start together', async () => {
    await build01(SESSIONS_0_1_MIGRATIONS);
    await seed01();
    const [first, second] = await Promise.all([instance(database.url), instance(database.url)]);
    dataSources.push(first, second);

    const results = await Promise.all([runSessionsMigrations(first), runSessionsMigrations(second)]);

    expect(results.map((result) => result.adopted.length).sort()).toEqual([0, OF_0_1.length]);
    await expect(sql(database.url, 'SELECT count(*)::int AS count FROM sessions.users')).resolves.toEqual([{ count: 1 }]);
  });

  it('refuses, changing nothing, when the schema already holds a table the 0.1 history promises', async () => {
    const host = await build01(SESSIONS_0_1_MIGRATIONS);
    await sql(database.url, 'CREATE SCHEMA sessions; CREATE TABLE sessions.users (id int)');

    await expect(runSessionsMigrations(host)).rejects.toThrow(/table users is already in "sessions"/);
    await expect(tablesIn(database.url, 'sessions')).resolves.toEqual(['users']);
    await expect(sql(database.url, "SELECT count(*)::int AS count FROM public.migrations WHERE name LIKE 'InitialSchema%'")).resolves.toEqual([{ count: 1 }]);
  });
});

describe('the sessions migration runner against the embedded database', () => {
  it('runs, with its lock, through a pool of one', async () => {
    const embedded = await startEmbeddedPostgres();
    const dataSource = await new DataSource({ type: 'postgres', url: embedded.url, extra: { max: EMBEDDED_POSTGRES_POOL_SIZE } }).initialize();
    try {
      await expect(runSessionsMigrations(dataSource)).resolves.toEqual({ executed: ALL, adopted: [] });
      await expect(runSessionsMigrations(dataSource)).resolves.toEqual({ executed: [], adopted: [] });
      await expect(dataSource.query('SELECT count(*)::int AS count FROM sessions.users')).resolves.toEqual([{ count: 0 }]);
    } finally {
      await dataSource.destroy();
      await embedded.close();
    }
  });
});
