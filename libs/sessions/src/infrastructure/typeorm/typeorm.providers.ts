import { InjectionToken, Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AUDIT_LOG } from '../../application/ports/audit-log.port';
import { INSTANCE_REGISTRY } from '../../application/ports/instance-registry.port';
import { SESSION_STORE } from '../../application/ports/session-store.port';
import { SESSIONS_SCHEMA, sessionsSchemaProviders, SessionsSchemaSettings } from './sessions-schema.provider';
import { TypeOrmAuditLog } from './typeorm-audit-log';
import { TypeOrmInstanceRegistry } from './typeorm-instance-registry';
import { TypeOrmSessionStore } from './typeorm-session-store';

/** The PostgreSQL adapters of the ports, over the DataSource behind `dataSource` (a Nest injection token), in the library's schema. */
export function typeOrmProviders(dataSource: InjectionToken): Provider[] {
  return [
    ...sessionsSchemaProviders(dataSource),
    { provide: SESSION_STORE, inject: [dataSource, SESSIONS_SCHEMA], useFactory: (ds: DataSource, s: SessionsSchemaSettings) => new TypeOrmSessionStore(ds, s.schema) },
    { provide: AUDIT_LOG, inject: [dataSource, SESSIONS_SCHEMA], useFactory: (ds: DataSource, s: SessionsSchemaSettings) => new TypeOrmAuditLog(ds, s.schema) },
    { provide: INSTANCE_REGISTRY, inject: [dataSource, SESSIONS_SCHEMA], useFactory: (ds: DataSource, s: SessionsSchemaSettings) => new TypeOrmInstanceRegistry(ds, s.schema) },
  ];
}
