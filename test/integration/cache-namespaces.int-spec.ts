import { runSessionsMigrations } from '@app/sessions';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TypeOrmCacheMarkerOutbox } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-cache-marker-outbox';
import { TypeOrmUnitOfWork } from '../../libs/sessions/src/infrastructure/typeorm/typeorm-unit-of-work';
import { expectEventually } from '../support/eventually';
import { waitFor } from '../support/service-process';
import { sql } from '../support/sql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(30_000);

const LIVE_SECONDS = 120;
const target = (own: string) => ({ own, liveWithinSeconds: LIVE_SECONDS });

/** The cache namespaces, and the markers queued for them, against the real PostgreSQL. */
describe('cache namespaces (PostgreSQL)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let outbox: TypeOrmCacheMarkerOutbox;
  let unitOfWork: TypeOrmUnitOfWork;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = new DataSource({ type: 'postgres', url: database.url, extra: { max: 4 } });
    await dataSource.initialize();
    await runSessionsMigrations(dataSource);
    unitOfWork = new TypeOrmUnitOfWork(dataSource);
    outbox = new TypeOrmCacheMarkerOutbox(dataSource, () => dataSource.manager, undefined, unitOfWork.origin);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const queuedFor = async (namespace: string) =>
    (await sql<{ session_id: string }>(database.url, 'SELECT session_id FROM cache_marker_outbox WHERE namespace = $1 ORDER BY id', [namespace])).map(
      (row) => row.session_id,
    );

  it("queues a revocation for every live namespace and the revoking one's, live or not", async () => {
    const [a, b, c, d] = ['ns-a', 'ns-b', 'ns-c', 'ns-d'].map((name) => `${name}-${randomUUID()}`);
    expect(await outbox.registerNamespace(a, LIVE_SECONDS)).toBe('registered');
    expect(await outbox.registerNamespace(b, LIVE_SECONDS)).toBe('registered');
    expect(await outbox.registerNamespace(a, LIVE_SECONDS)).toBe('live');
    const [s1, s2] = [randomUUID(), randomUUID()];
    expect(await unitOfWork.inTransaction((tx) => tx.outbox.enqueue(randomUUID(), [s1], target(a)))).toBe(2);
    // d revokes before it ever registered (a cache that has not started yet): its own rows are queued all the same.
    expect(await unitOfWork.inTransaction((tx) => tx.outbox.enqueue(randomUUID(), [s2], target(d)))).toBe(3);
    expect(await queuedFor(a)).toEqual([s1, s2]);
    expect(await queuedFor(b)).toEqual([s1, s2]);
    expect(await queuedFor(c)).toEqual([]);
    expect(await queuedFor(d)).toEqual([s2]);

    const drained: string[] = [];
    expect(await outbox.drain(b, 10, async (markers) => void drained.push(...markers.map((m) => m.sessionId)))).toBe(2);
    expect(drained).toEqual([s1, s2]);
    expect(await queuedFor(a)).toEqual([s1, s2]); // b took only its own
  });

  it("notifies the namespace's other instances on commit, not the instance that queued (it writes its own markers itself)", async () => {
    const namespace = `ns-notify-${randomUUID()}`;
    const sibling = new TypeOrmCacheMarkerOutbox(dataSource, () => dataSource.manager);
    const heard = { revoker: 0, sibling: 0 };
    const listeners = [outbox.listen(namespace, () => void (heard.revoker += 1)), sibling.listen(namespace, () => void (heard.sibling += 1))];
    try {
      // Each listener calls back once when it starts listening (for what was queued before).
      await expectEventually(() => expect(heard).toEqual({ revoker: 1, sibling: 1 }));
      await unitOfWork.inTransaction((tx) => tx.outbox.enqueue(randomUUID(), [randomUUID()], target(namespace)));
      await expectEventually(() => expect(heard.sibling).toBe(2));
      // The revoker's notification was sent in the same commit; give it the same time to arrive.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(heard).toEqual({ revoker: 1, sibling: 2 });
    } finally {
      await Promise.all(listeners.filter((listener) => listener !== null).map((listener) => listener.close()));
    }
  });

  it('stops queuing for a namespace not seen within the window, and says so when it comes back', async () => {
    const [a, gone] = [`ns-a-${randomUUID()}`, `ns-gone-${randomUUID()}`];
    await outbox.registerNamespace(a, LIVE_SECONDS);
    await outbox.registerNamespace(gone, LIVE_SECONDS);
    await sql(database.url, `UPDATE cache_namespaces SET last_seen_at = now() - interval '121 seconds' WHERE namespace = $1`, [gone]);
    await unitOfWork.inTransaction((tx) => tx.outbox.enqueue(randomUUID(), [randomUUID()], target(a)));
    expect(await queuedFor(gone)).toEqual([]);
    expect(await outbox.registerNamespace(gone, LIVE_SECONDS)).toBe('registered');
  });

  it('makes a namespace that registers wait for every revocation that listed the namespaces without it', async () => {
    const [a, late] = [`ns-a-${randomUUID()}`, `ns-late-${randomUUID()}`];
    await outbox.registerNamespace(a, LIVE_SECONDS);
    let commit!: () => void;
    const committed = new Promise<void>((resolve) => (commit = resolve));
    const session = randomUUID();
    let revocationCommitted = false;
    // A revocation that has listed the namespaces (without `late`) and has not committed yet.
    const revocation = unitOfWork
      .inTransaction(async (tx) => {
        await tx.outbox.enqueue(randomUUID(), [session], target(a));
        await committed;
      })
      .then(() => (revocationCommitted = true));
    await waitFor(
      'the revocation to list the namespaces',
      async () =>
        (await sql(database.url, `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'cache_namespaces' AND l.granted`)).length >
        0,
      5_000,
    );

    let registeredBeforeCommit: boolean | undefined;
    const registration = outbox.registerNamespace(late, LIVE_SECONDS).then((result) => {
      registeredBeforeCommit = !revocationCommitted;
      return result;
    });
    await waitFor(
      'the registration to wait for the revocation',
      async () =>
        (await sql(database.url, `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'cache_namespaces' AND NOT l.granted`))
          .length > 0,
      5_000,
    );
    commit();
    await revocation;
    expect(await registration).toBe('registered');
    expect(registeredBeforeCommit).toBe(false);
  });
});
