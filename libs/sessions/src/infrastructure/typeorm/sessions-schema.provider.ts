import { InjectionToken, OnModuleInit, Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ResolvedSessionsOptions, SESSIONS_OPTIONS, SessionsMigrationsMode } from '../../sessions.options';
import { assertSessionsMigrated, runSessionsMigrations } from './sessions-migrations';

/** The schema and migration settings, read from the resolved module options (checked there). */
export interface SessionsSchemaSettings {
  readonly schema: string;
  readonly migrations: SessionsMigrationsMode;
}

export const SESSIONS_SCHEMA = Symbol('SessionsSchema');

export function schemaSettingsOf(options: ResolvedSessionsOptions): SessionsSchemaSettings {
  return { schema: options.schema, migrations: options.migrations };
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
