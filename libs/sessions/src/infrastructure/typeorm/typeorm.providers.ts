import { InjectionToken, Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AUDIT_LOG } from '../../application/ports/audit-log.port';
import { INSTANCE_REGISTRY } from '../../application/ports/instance-registry.port';
import { SESSION_STORE } from '../../application/ports/session-store.port';
import { TypeOrmAuditLog } from './typeorm-audit-log';
import { TypeOrmInstanceRegistry } from './typeorm-instance-registry';
import { TypeOrmSessionStore } from './typeorm-session-store';

/** The PostgreSQL adapters of the ports, over the DataSource behind `dataSource` (a Nest injection token). */
export function typeOrmProviders(dataSource: InjectionToken): Provider[] {
  return [
    { provide: SESSION_STORE, inject: [dataSource], useFactory: (ds: DataSource) => new TypeOrmSessionStore(ds) },
    { provide: AUDIT_LOG, inject: [dataSource], useFactory: (ds: DataSource) => new TypeOrmAuditLog(ds) },
    { provide: INSTANCE_REGISTRY, inject: [dataSource], useFactory: (ds: DataSource) => new TypeOrmInstanceRegistry(ds) },
  ];
}
