import { runSessionsMigrations } from '@app/sessions';
import { Test, type TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AUDIT_LOG, type AuditLog } from '../../libs/sessions/src/application/ports/audit-log.port';
import { REVOKED_SESSIONS, type RevokedSessions } from '../../libs/sessions/src/application/ports/revoked-sessions.port';
import { SESSION_RECORDS, type SessionRecords } from '../../libs/sessions/src/application/ports/session-records.port';
import { UNIT_OF_WORK, type UnitOfWork } from '../../libs/sessions/src/application/ports/unit-of-work.port';
import { USER_ACCOUNTS, type UserAccounts } from '../../libs/sessions/src/application/ports/user-accounts.port';
import { newRefreshToken } from '../../libs/sessions/src/domain/refresh-token';
import { typeOrmProviders } from '../../libs/sessions/src/infrastructure/typeorm/typeorm.providers';
import { SESSIONS_OPTIONS } from '../../libs/sessions/src/sessions.options';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

jest.setTimeout(30_000);

const DATA_SOURCE = Symbol('DataSource');

/** Rejects if `promise` has not settled within `ms`: a read waiting for a second connection never would. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The embedded database gives the service a pool of ONE connection. A unit of work holds it for
 * its whole transaction, so a read made inside it that asked the pool for another connection
 * would wait forever. Every read of every port must go through the open transaction instead.
 */
describe('the unit of work on a pool of one connection', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = new DataSource({ type: 'postgres', url: database.url, extra: { max: 1 } });
    await dataSource.initialize();
    await runSessionsMigrations(dataSource);
    // The adapters exactly as the module wires them.
    moduleRef = await Test.createTestingModule({
      providers: [{ provide: DATA_SOURCE, useValue: dataSource }, { provide: SESSIONS_OPTIONS, useValue: {} }, ...typeOrmProviders(DATA_SOURCE)],
    }).compile();
  });

  afterAll(async () => {
    await moduleRef?.close();
    await database?.drop();
    if (dataSource?.isInitialized) await dataSource.destroy().catch(() => undefined);
  });

  it('answers every read made inside the transaction through it, seeing its own writes', async () => {
    const unitOfWork = moduleRef.get<UnitOfWork>(UNIT_OF_WORK);
    const users = moduleRef.get<UserAccounts>(USER_ACCOUNTS);
    const sessions = moduleRef.get<SessionRecords>(SESSION_RECORDS);
    const revoked = moduleRef.get<RevokedSessions>(REVOKED_SESSIONS);
    const auditLog = moduleRef.get<AuditLog>(AUDIT_LOG);
    const userId = randomUUID();
    const email = `${userId}@example.com`;
    const [kept, ended] = [randomUUID(), randomUUID()];
    const token = newRefreshToken();
    const now = new Date();
    const later = new Date(now.getTime() + 3_600_000);

    const reads = await within(
      unitOfWork.inTransaction(async (tx) => {
        await tx.users.insert({ id: userId, email, passwordHash: 'hash', role: 'user', createdAt: now });
        for (const id of [kept, ended])
          await tx.sessions.insert({ id, userId, createdAt: now, expiresAt: later, ipAddress: '198.51.100.7', userAgent: 'pool-of-one' });
        await tx.sessions.insertRefreshToken({
          id: randomUUID(),
          sessionId: kept,
          userId,
          tokenHash: token.hash,
          issuedAt: now,
          expiresAt: later,
          parentId: null,
        });
        await tx.sessions.revoke(userId, ended, { reason: 'logout', revokedBy: userId, at: now });
        return {
          byId: await users.findById(userId),
          byEmail: await users.findByEmail(email),
          exists: await users.exists(userId),
          adminExists: await users.adminExists(),
          status: await sessions.findStatus(kept),
          session: await sessions.find(kept),
          active: await sessions.list(userId, { includeRevoked: false, now }),
          token: await sessions.describeRefreshToken(token.hash),
          addresses: await sessions.addressesSince(userId, new Date(now.getTime() - 1_000)),
          revokedSince: await revoked.listSince(new Date(now.getTime() - 1_000)),
          audit: await auditLog.query({ userId, limit: 10 }),
          unfinished: await auditLog.findUnfinished({
            attemptedAfter: now,
            attemptedBefore: later,
            excludeInstance: randomUUID(),
            instanceSilentForMs: 1_000,
            limit: 10,
          }),
        };
      }),
      5_000,
      'the transaction with its reads',
    );

    // Uncommitted rows are visible only inside the transaction: each read went through it.
    expect(reads.byId?.id).toBe(userId);
    expect(reads.byEmail?.id).toBe(userId);
    expect(reads.exists).toBe(true);
    expect(reads.adminExists).toBe(false);
    expect(reads.status).toMatchObject({ userId, revokedAt: null });
    expect(reads.session?.id).toBe(kept);
    expect(reads.active.map((s) => s.id)).toEqual([kept]);
    expect(reads.token).toMatchObject({ sessionId: kept, userId, revokedAt: null });
    expect(reads.addresses).toEqual(['198.51.100.7']);
    expect(reads.revokedSince).toEqual([{ userId, sessionId: ended }]);
    expect(reads.audit.entries).toEqual([]);
    expect(reads.unfinished).toEqual([]);
    // And after the commit, on the pool's connection again.
    await expect(within(users.findById(userId), 5_000, 'a read after the commit')).resolves.toMatchObject({ id: userId });
  });

  it('joins a unit of work opened inside another, and rolls both back together', async () => {
    const unitOfWork = moduleRef.get<UnitOfWork>(UNIT_OF_WORK);
    const users = moduleRef.get<UserAccounts>(USER_ACCOUNTS);
    const [outer, inner] = [randomUUID(), randomUUID()];
    const failure = new Error('rolled back on purpose');
    const run = unitOfWork.inTransaction(async (tx) => {
      await tx.users.insert({ id: outer, email: `${outer}@example.com`, passwordHash: 'hash', role: 'user', createdAt: new Date() });
      await unitOfWork.inTransaction((nested) =>
        nested.users.insert({ id: inner, email: `${inner}@example.com`, passwordHash: 'hash', role: 'user', createdAt: new Date() }),
      );
      expect(await users.exists(inner)).toBe(true);
      throw failure;
    });
    await expect(within(run, 5_000, 'the nested units of work')).rejects.toBe(failure);
    expect(await users.exists(outer)).toBe(false);
    expect(await users.exists(inner)).toBe(false);
  });
});
