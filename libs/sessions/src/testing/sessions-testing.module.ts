import { DynamicModule, Inject, Injectable, Module, Provider } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APPLICATION_PROVIDERS } from '../application/application.providers';
import { AuditRecorder } from '../application/audit/audit-recorder';
import { SessionAuthenticator } from '../application/authentication/session-authenticator';
import { AUDIT_LOG, AuditEntry, AuditLog, AuditPage, AuditQuery, OutcomeCounts, UnfinishedQuery } from '../application/ports/audit-log.port';
import { CLOCK, Clock, systemClock } from '../application/ports/clock.port';
import { INSTANCE_REGISTRY, InstanceRegistry } from '../application/ports/instance-registry.port';
import { LOGIN_ATTEMPTS } from '../application/ports/login-attempts.port';
import { LOGIN_LOCKOUTS } from '../application/ports/login-lockouts.port';
import { type AuditAction } from '../domain/audit-action';
import { CACHE_MARKER_OUTBOX } from '../application/ports/cache-marker-outbox.port';
import { REVOKED_SESSIONS } from '../application/ports/revoked-sessions.port';
import { SESSION_CACHE } from '../application/ports/session-cache.port';
import { SESSION_RECORDS } from '../application/ports/session-records.port';
import { UNIT_OF_WORK } from '../application/ports/unit-of-work.port';
import { USER_ACCOUNTS } from '../application/ports/user-accounts.port';
import { SessionDirectory } from '../application/queries/session-directory';
import { MemoryLoginAttempts } from '../infrastructure/cache/memory-login-attempts';
import { MemorySessionCache } from '../infrastructure/cache/memory-session-cache';
import { AccessTokenKeys } from '../infrastructure/security/access-token-keys';
import { SECURITY_PROVIDERS } from '../infrastructure/security/security.providers';
import { safeObserver, SESSIONS_OBSERVER } from '../application/observer/sessions-observer';
import { resolveSessionsOptions, ResolvedSessionsOptions, SESSIONS_OPTIONS, SessionsModuleOptions } from '../sessions.options';
import { inMemoryPorts } from './fakes';
import { InMemoryDatabase } from './in-memory-database';

export interface SessionsTestingOptions {
  /** Any module option; the secret and cheap argon2id parameters are filled in. */
  readonly options?: SessionsModuleOptions;
  /** The clock every handler reads (a FixedClock lets a test move time); the system clock when absent. */
  readonly clock?: Clock;
  /** Register the module globally, as the runtime does with SessionsModule. Default true. */
  readonly isGlobal?: boolean;
}

/** A secret that exists only in tests. */
const TESTING_SECRET = 'sessions-testing-secret-not-for-production-use';
/** Far cheaper than the defaults: a test is not what a password hash must resist. */
const TESTING_HASHING = { memoryCostKiB: 1024, timeCost: 1, parallelism: 1 };

/**
 * The audit trail in memory. Succeeded entries are written inside their command's transaction
 * (into the database's `audit`); Attempted and Failed ones come here, never into a transaction
 * (as in PostgreSQL, they stay whatever a transaction open meanwhile does): the trail is both, by event id.
 */
class InMemoryAuditTrail implements AuditLog {
  private readonly appended = new Map<string, AuditEntry>();

  constructor(private readonly database: InMemoryDatabase) {}

  all(): AuditEntry[] {
    const entries = new Map(this.appended);
    for (const entry of this.database.audit) if (!entries.has(entry.eventId)) entries.set(entry.eventId, entry);
    // Event ids are UUIDv7: their order is the order they were made in.
    return [...entries.values()].sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  }

  async append(entries: readonly AuditEntry[]): Promise<void> {
    for (const entry of entries) if (!this.appended.has(entry.eventId)) this.appended.set(entry.eventId, entry);
  }

  async findUnfinished(query: UnfinishedQuery): Promise<AuditEntry[]> {
    const all = this.all();
    const finished = new Set(all.filter((entry) => entry.outcome !== 'attempted').map((entry) => entry.correlationId));
    return all
      .filter(
        (entry) =>
          entry.outcome === 'attempted' &&
          !finished.has(entry.correlationId) &&
          entry.occurredAt >= query.attemptedAfter &&
          entry.occurredAt < query.attemptedBefore &&
          entry.details.instance !== query.excludeInstance,
      )
      .slice(0, query.limit);
  }

  async query(query: AuditQuery): Promise<AuditPage> {
    const all = this.all();
    const ofUser = query.userId ? new Set(all.filter((entry) => entry.userId === query.userId).map((entry) => entry.correlationId)) : undefined;
    const matching = all
      .reverse()
      .filter(
        (entry) =>
          (!ofUser || ofUser.has(entry.correlationId)) &&
          (!query.actorId || entry.actorId === query.actorId) &&
          (!query.correlationId || entry.correlationId === query.correlationId) &&
          (!query.action || entry.action === query.action) &&
          (!query.outcome || entry.outcome === query.outcome) &&
          (!query.ipAddress || entry.ipAddress === query.ipAddress) &&
          (!query.sessionId || entry.sessionId === query.sessionId) &&
          (!query.requestId || entry.requestId === query.requestId) &&
          (!query.from || entry.occurredAt >= query.from) &&
          (!query.to || entry.occurredAt < query.to) &&
          (!query.before || entry.eventId < query.before),
      );
    const page = matching.slice(0, query.limit);
    return { entries: page, nextCursor: matching.length > query.limit ? page[page.length - 1].eventId : null };
  }

  async countOutcomes(action: AuditAction, since: Date): Promise<OutcomeCounts> {
    const outcomes = this.all().filter((entry) => entry.action === action && entry.occurredAt >= since);
    return { succeeded: outcomes.filter((e) => e.outcome === 'succeeded').length, failed: outcomes.filter((e) => e.outcome === 'failed').length };
  }
}

/** One process in a test: every instance is alive. */
class InMemoryInstanceRegistry implements InstanceRegistry {
  async heartbeat(): Promise<void> {}

  async forgetSilentFor(): Promise<number> {
    return 0;
  }
}

/**
 * What a host's test can look at after dispatching commands: the in-memory state the real
 * handlers wrote, and the audit trail (every command's Attempted, then Succeeded or Failed).
 */
@Injectable()
export class SessionsTesting {
  constructor(
    /** The users, sessions, refresh tokens and audit rows the handlers committed. */
    readonly database: InMemoryDatabase,
    @Inject(AUDIT_LOG) private readonly auditLog: InMemoryAuditTrail,
    @Inject(CLOCK) readonly clock: Clock,
    private readonly recorder: AuditRecorder,
  ) {}

  /** Resolves once every audit entry of the commands dispatched so far is written (Attempted and Failed are written after the command answers). */
  settle(): Promise<void> {
    return this.recorder.drain();
  }

  /** The audit trail so far, oldest first. Call settle() first. */
  auditEntries(): AuditEntry[] {
    return this.auditLog.all();
  }
}

/**
 * The library's real command handlers, SessionDirectory and SessionAuthenticator, its password
 * hasher and token signer, over in-memory fakes of its storage and cache ports: a host's unit test dispatches `RegisterUser`, `LoginUser`,
 * `RevokeAllUserSessions` ... with no PostgreSQL and no Redis. The host provides
 * `CqrsModule.forRoot()`, as it does for SessionsModule; the module is global by default, so the
 * library's guards work in any feature module of the test.
 */
@Module({})
export class SessionsTestingModule {
  static forRoot(testing: SessionsTestingOptions = {}): DynamicModule {
    const options = resolveSessionsOptions({ accessTokenSecret: TESTING_SECRET, passwordHashing: TESTING_HASHING, singleInstance: true, ...testing.options });
    const clock = testing.clock ?? systemClock;
    return {
      module: SessionsTestingModule,
      global: testing.isGlobal ?? true,
      providers: [
        { provide: SESSIONS_OPTIONS, useValue: options },
        { provide: CLOCK, useValue: clock },
        { provide: SESSIONS_OBSERVER, useValue: safeObserver(options.observer) },
        ...fakePorts(options, clock),
        // The real password hasher and token signer, with the host's overrides (passwordHasher, accessTokenKeys) if it gave any.
        ...SECURITY_PROVIDERS,
        ...APPLICATION_PROVIDERS,
        SessionsTesting,
      ],
      exports: [SessionAuthenticator, SessionDirectory, AccessTokenKeys, SessionsTesting],
    };
  }
}

/** One set of fakes per module instance: two test modules never share state. */
function fakePorts(options: ResolvedSessionsOptions, clock: Clock): Provider[] {
  const ports = inMemoryPorts();
  ports.db.now = () => clock.now().getTime();
  // The memory cache shares its entries per key prefix within the process: a prefix of its own.
  const keyPrefix = `${options.cacheKeyPrefix}testing:${randomUUID()}:`;
  return [
    { provide: InMemoryDatabase, useValue: ports.db },
    { provide: UNIT_OF_WORK, useValue: ports.unitOfWork },
    { provide: USER_ACCOUNTS, useValue: ports.userAccounts },
    { provide: SESSION_RECORDS, useValue: ports.sessionRecords },
    { provide: REVOKED_SESSIONS, useValue: ports.revokedSessions },
    { provide: CACHE_MARKER_OUTBOX, useValue: ports.cacheMarkerOutbox },
    { provide: LOGIN_LOCKOUTS, useValue: ports.loginLockouts },
    { provide: AUDIT_LOG, useValue: new InMemoryAuditTrail(ports.db) },
    { provide: INSTANCE_REGISTRY, useValue: new InMemoryInstanceRegistry() },
    { provide: SESSION_CACHE, useValue: new MemorySessionCache({ keyPrefix, now: () => clock.now().getTime() }) },
    { provide: LOGIN_ATTEMPTS, useValue: new MemoryLoginAttempts({ keyPrefix, policy: options.loginLockout, clock }) },
  ];
}
