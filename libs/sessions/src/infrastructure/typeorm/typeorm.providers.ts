import { InjectionToken, Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AUDIT_LOG } from '../../application/ports/audit-log.port';
import { AUDIT_PARTITIONS } from '../../application/ports/audit-partitions.port';
import { CACHE_MARKER_OUTBOX } from '../../application/ports/cache-marker-outbox.port';
import { REVOCATION_FEED } from '../../application/ports/revocation-feed.port';
import { EXPIRED_RECORDS } from '../../application/ports/expired-records.port';
import { INSTANCE_REGISTRY } from '../../application/ports/instance-registry.port';
import { LOGIN_LOCKOUTS } from '../../application/ports/login-lockouts.port';
import { REVOKED_SESSIONS } from '../../application/ports/revoked-sessions.port';
import { SESSION_RECORDS } from '../../application/ports/session-records.port';
import { UNIT_OF_WORK } from '../../application/ports/unit-of-work.port';
import { USER_ACCOUNTS } from '../../application/ports/user-accounts.port';
import { ResolvedSessionsOptions, SESSIONS_OPTIONS } from '../../sessions.options';
import { AuditSealer } from './audit-sealer';
import { SESSIONS_SCHEMA, sessionsSchemaProviders, SessionsSchemaSettings } from './sessions-schema.provider';
import { TypeOrmAuditLog } from './typeorm-audit-log';
import { TypeOrmAuditPartitions } from './typeorm-audit-partitions';
import { TypeOrmCacheMarkerOutbox } from './typeorm-cache-marker-outbox';
import { TypeOrmExpiredRecords } from './typeorm-expired-records';
import { TypeOrmRevocationFeed } from './typeorm-revocation-feed';
import { TypeOrmInstanceRegistry } from './typeorm-instance-registry';
import { TypeOrmLoginLockouts } from './typeorm-login-lockouts';
import { TypeOrmRevokedSessions } from './typeorm-revoked-sessions';
import { TypeOrmSessionRecords } from './typeorm-session-records';
import { TypeOrmUnitOfWork } from './typeorm-unit-of-work';
import { TypeOrmUserAccounts } from './typeorm-user-accounts';

/** The PostgreSQL adapters of the ports, over the DataSource behind `dataSource` (a Nest injection token), in the library's schema. */
export function typeOrmProviders(dataSource: InjectionToken): Provider[] {
  // One unit of work per DataSource; every adapter reads through the transaction it has open, if any.
  const TYPEORM_UNIT_OF_WORK = Symbol('TypeOrmUnitOfWork');
  const joining = (uow: TypeOrmUnitOfWork) => () => uow.current();
  type Settings = SessionsSchemaSettings;
  return [
    ...sessionsSchemaProviders(dataSource),
    { provide: TYPEORM_UNIT_OF_WORK, inject: [dataSource, SESSIONS_SCHEMA], useFactory: (ds: DataSource, s: Settings) => new TypeOrmUnitOfWork(ds, s.schema) },
    { provide: UNIT_OF_WORK, useExisting: TYPEORM_UNIT_OF_WORK },
    {
      provide: USER_ACCOUNTS,
      inject: [TYPEORM_UNIT_OF_WORK, SESSIONS_SCHEMA],
      useFactory: (uow: TypeOrmUnitOfWork, s: Settings) => new TypeOrmUserAccounts(joining(uow), s.schema),
    },
    {
      provide: SESSION_RECORDS,
      inject: [TYPEORM_UNIT_OF_WORK, SESSIONS_SCHEMA],
      useFactory: (uow: TypeOrmUnitOfWork, s: Settings) => new TypeOrmSessionRecords(joining(uow), s.schema),
    },
    {
      provide: LOGIN_LOCKOUTS,
      inject: [TYPEORM_UNIT_OF_WORK, SESSIONS_SCHEMA],
      useFactory: (uow: TypeOrmUnitOfWork, s: Settings) => new TypeOrmLoginLockouts(joining(uow), s.schema),
    },
    {
      provide: EXPIRED_RECORDS,
      inject: [TYPEORM_UNIT_OF_WORK, SESSIONS_SCHEMA],
      useFactory: (uow: TypeOrmUnitOfWork, s: Settings) => new TypeOrmExpiredRecords(joining(uow), s.schema),
    },
    {
      provide: REVOKED_SESSIONS,
      inject: [TYPEORM_UNIT_OF_WORK, SESSIONS_SCHEMA],
      useFactory: (uow: TypeOrmUnitOfWork, s: Settings) => new TypeOrmRevokedSessions(joining(uow), s.schema),
    },
    {
      provide: CACHE_MARKER_OUTBOX,
      inject: [dataSource, TYPEORM_UNIT_OF_WORK, SESSIONS_SCHEMA],
      useFactory: (ds: DataSource, uow: TypeOrmUnitOfWork, s: Settings) => new TypeOrmCacheMarkerOutbox(ds, joining(uow), s.schema, uow.origin),
    },
    {
      provide: REVOCATION_FEED,
      inject: [dataSource, SESSIONS_SCHEMA],
      useFactory: (ds: DataSource, s: Settings) => new TypeOrmRevocationFeed(ds, () => ds.manager, s.schema),
    },
    {
      provide: AUDIT_LOG,
      inject: [dataSource, TYPEORM_UNIT_OF_WORK, SESSIONS_SCHEMA],
      useFactory: (ds: DataSource, uow: TypeOrmUnitOfWork, s: Settings) => new TypeOrmAuditLog(ds, joining(uow), s.schema),
    },
    {
      provide: AUDIT_PARTITIONS,
      inject: [dataSource, TYPEORM_UNIT_OF_WORK, SESSIONS_SCHEMA],
      useFactory: (ds: DataSource, uow: TypeOrmUnitOfWork, s: Settings) => new TypeOrmAuditPartitions(ds, joining(uow), s.schema),
    },
    {
      provide: INSTANCE_REGISTRY,
      inject: [dataSource, SESSIONS_SCHEMA],
      useFactory: (ds: DataSource, s: Settings) => new TypeOrmInstanceRegistry(ds, s.schema),
    },
    {
      provide: AuditSealer,
      inject: [dataSource, SESSIONS_SCHEMA, SESSIONS_OPTIONS],
      useFactory: (ds: DataSource, s: Settings, o: ResolvedSessionsOptions) => new AuditSealer(ds, s.schema, o.auditSealIntervalSeconds),
    },
  ];
}
