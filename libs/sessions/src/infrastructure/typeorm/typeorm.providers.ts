import { InjectionToken, Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AUDIT_LOG } from '../../application/ports/audit-log.port';
import { CACHE_MARKER_OUTBOX } from '../../application/ports/cache-marker-outbox.port';
import { INSTANCE_REGISTRY } from '../../application/ports/instance-registry.port';
import { REVOKED_SESSIONS } from '../../application/ports/revoked-sessions.port';
import { SESSION_RECORDS } from '../../application/ports/session-records.port';
import { UNIT_OF_WORK } from '../../application/ports/unit-of-work.port';
import { USER_ACCOUNTS } from '../../application/ports/user-accounts.port';
import { TypeOrmAuditLog } from './typeorm-audit-log';
import { TypeOrmCacheMarkerOutbox } from './typeorm-cache-marker-outbox';
import { TypeOrmInstanceRegistry } from './typeorm-instance-registry';
import { TypeOrmRevokedSessions } from './typeorm-revoked-sessions';
import { TypeOrmSessionRecords } from './typeorm-session-records';
import { TypeOrmUnitOfWork } from './typeorm-unit-of-work';
import { TypeOrmUserAccounts } from './typeorm-user-accounts';

/** The PostgreSQL adapters of the ports, over the DataSource behind `dataSource` (a Nest injection token). */
export function typeOrmProviders(dataSource: InjectionToken): Provider[] {
  const outside = (ds: DataSource) => () => ds.manager;
  return [
    { provide: UNIT_OF_WORK, inject: [dataSource], useFactory: (ds: DataSource) => new TypeOrmUnitOfWork(ds) },
    { provide: USER_ACCOUNTS, inject: [dataSource], useFactory: (ds: DataSource) => new TypeOrmUserAccounts(outside(ds)) },
    { provide: SESSION_RECORDS, inject: [dataSource], useFactory: (ds: DataSource) => new TypeOrmSessionRecords(outside(ds)) },
    { provide: REVOKED_SESSIONS, inject: [dataSource], useFactory: (ds: DataSource) => new TypeOrmRevokedSessions(outside(ds)) },
    { provide: CACHE_MARKER_OUTBOX, inject: [dataSource], useFactory: (ds: DataSource) => new TypeOrmCacheMarkerOutbox(ds, outside(ds)) },
    { provide: AUDIT_LOG, inject: [dataSource], useFactory: (ds: DataSource) => new TypeOrmAuditLog(ds) },
    { provide: INSTANCE_REGISTRY, inject: [dataSource], useFactory: (ds: DataSource) => new TypeOrmInstanceRegistry(ds) },
  ];
}
