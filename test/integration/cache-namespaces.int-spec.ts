import { runMigrations } from '@app/platform';
import { SESSIONS_ENTITIES, SESSIONS_MIGRATIONS } from '../../libs/sessions/src/infrastructure/typeorm/schema';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TypeOrmSessionStore } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-session-store';
import { waitFor } from '../support/service-process';
import { sql } from '../support/sql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(30_000);

const LIVE_SECONDS = 120;
const target = (own: string, includeOwn = false) => ({ own, includeOwn, liveWithinSeconds: LIVE_SECONDS });

/** The cache namespaces, and the markers queued for them, against the real PostgreSQL. */
describe('cache namespaces (PostgreSQL)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: TypeOrmSessionStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = new DataSource({ type: 'postgres', url: database.url, entities: SESSIONS_ENTITIES, migrations: SESSIONS_MIGRATIONS, extra: { max: 4 } });
    await dataSource.initialize();
    await runMigrations(dataSource, { lock: false });
    store = new TypeOrmSessionStore(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const queuedFor = async (namespace: string) =>
    (await sql<{ session_id: string }>(database.url, 'SELECT session_id FROM cache_marker_outbox WHERE namespace = $1 ORDER BY id', [namespace])).map((row) => row.session_id);

  it('queues a revocation for every live namespace but the revoking one, and for that one too when its write failed', async () => {
    const [a, b, c] = ['ns-a', 'ns-b', 'ns-c'].map((name) => `${name}-${randomUUID()}`);
    expect(await store.registerCacheNamespace(a, LIVE_SECONDS)).toBe('registered');
    expect(await store.registerCacheNamespace(b, LIVE_SECONDS)).toBe('registered');
    expect(await store.registerCacheNamespace(a, LIVE_SECONDS)).toBe('live');
    const [s1, s2] = [randomUUID(), randomUUID()];
    await store.inTransaction((tx) => tx.enqueueCacheMarkers(randomUUID(), [s1], target(a)));
    await store.inTransaction((tx) => tx.enqueueCacheMarkers(randomUUID(), [s2], target(a, true)));
    expect(await queuedFor(a)).toEqual([s2]);
    expect(await queuedFor(b)).toEqual([s1, s2]);
    expect(await queuedFor(c)).toEqual([]);

    const drained: string[] = [];
    expect(await store.drainCacheMarkers(b, 10, async (markers) => void drained.push(...markers.map((m) => m.sessionId)))).toBe(2);
    expect(drained).toEqual([s1, s2]);
    expect(await queuedFor(a)).toEqual([s2]); // b took only its own
  });

  it('stops queuing for a namespace not seen within the window, and says so when it comes back', async () => {
    const [a, gone] = [`ns-a-${randomUUID()}`, `ns-gone-${randomUUID()}`];
    await store.registerCacheNamespace(a, LIVE_SECONDS);
    await store.registerCacheNamespace(gone, LIVE_SECONDS);
    await sql(database.url, `UPDATE cache_namespaces SET last_seen_at = now() - interval '121 seconds' WHERE namespace = $1`, [gone]);
    await store.inTransaction((tx) => tx.enqueueCacheMarkers(randomUUID(), [randomUUID()], target(a)));
    expect(await queuedFor(gone)).toEqual([]);
    expect(await store.registerCacheNamespace(gone, LIVE_SECONDS)).toBe('registered');
  });

  it('makes a namespace that registers wait for every revocation that listed the namespaces without it', async () => {
    const [a, late] = [`ns-a-${randomUUID()}`, `ns-late-${randomUUID()}`];
    await store.registerCacheNamespace(a, LIVE_SECONDS);
    let commit!: () => void;
    const committed = new Promise<void>((resolve) => (commit = resolve));
    const session = randomUUID();
    let revocationCommitted = false;
    // A revocation that has listed the namespaces (without `late`) and has not committed yet.
    const revocation = store.inTransaction(async (tx) => {
      await tx.enqueueCacheMarkers(randomUUID(), [session], target(a));
      await committed;
    }).then(() => (revocationCommitted = true));
    await waitFor('the revocation to list the namespaces', async () => (await sql(database.url, `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'cache_namespaces' AND l.granted`)).length > 0, 5_000);

    let registeredBeforeCommit: boolean | undefined;
    const registration = store.registerCacheNamespace(late, LIVE_SECONDS).then((result) => {
      registeredBeforeCommit = !revocationCommitted;
      return result;
    });
    await waitFor('the registration to wait for the revocation', async () => (await sql(database.url, `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'cache_namespaces' AND NOT l.granted`)).length > 0, 5_000);
    commit();
    await revocation;
    expect(await registration).toBe('registered');
    expect(registeredBeforeCommit).toBe(false);
  });
});
