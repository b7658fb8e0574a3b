import { InjectionToken, OnModuleInit, Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SESSIONS_OPTIONS, SessionsModuleOptions } from '../../sessions.options';
import { sessionsSchemaName } from './schema-name';
import { assertSessionsMigrated, runSessionsMigrations } from './sessions-migrations';

/** `run` (the default): migrate at start-up; `verify`: refuse to start while a migration is pending (the host ran them before deploying). */
export type SessionsMigrationsMode = 'run' | 'verify';

/** The schema and migration settings, read from the module options (with their defaults). */
export interface SessionsSchemaSettings {
  readonly schema: string;
  readonly migrations: SessionsMigrationsMode;
}

export const SESSIONS_SCHEMA = Symbol('SessionsSchema');

export function schemaSettingsOf(options: SessionsModuleOptions): SessionsSchemaSettings {
  const { schema, migrations } = options as SessionsModuleOptions & { schema?: string; migrations?: SessionsMigrationsMode };
  return { schema: sessionsSchemaName(schema), migrations: migrations ?? 'run' };
}

/** Brings the library's schema up to date, or checks that it is, before anything else touches it. */
export class SessionsSchemaMigrator implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: SessionsSchemaSettings,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.settings.migrations === 'verify') await assertSessionsMigrated(this.dataSource, { schema: this.settings.schema });
    else await runSessionsMigrations(this.dataSource, { schema: this.settings.schema });
  }
}

/** The schema settings (SESSIONS_SCHEMA) and the migrator, over the DataSource behind `dataSource`. */
export function sessionsSchemaProviders(dataSource: InjectionToken): Provider[] {
  return [
    { provide: SESSIONS_SCHEMA, inject: [SESSIONS_OPTIONS], useFactory: schemaSettingsOf },
    {
      provide: SessionsSchemaMigrator,
      inject: [dataSource, SESSIONS_SCHEMA],
      useFactory: (ds: DataSource, settings: SessionsSchemaSettings) => new SessionsSchemaMigrator(ds, settings),
    },
  ];
}
