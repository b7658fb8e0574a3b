import { DataSource } from 'typeorm';
import { InstanceRegistry } from '../../application/ports/instance-registry.port';
import { deleteSilentInstancesSql, heartbeatInstanceSql } from './instance-registry.sql';
import { DEFAULT_SESSIONS_SCHEMA } from './schema-name';

/** The `instances` table. Times are the database's, so instances with skewed clocks agree. */
export class TypeOrmInstanceRegistry implements InstanceRegistry {
  constructor(
    private readonly dataSource: DataSource,
    private readonly schema: string = DEFAULT_SESSIONS_SCHEMA,
  ) {}

  async heartbeat(instanceId: string): Promise<void> {
    await this.dataSource.query(heartbeatInstanceSql(this.schema), [instanceId]);
  }

  async forgetSilentFor(ms: number): Promise<number> {
    const [, count] = await this.dataSource.query<[unknown, number]>(deleteSilentInstancesSql(this.schema), [ms / 1000]);
    return count;
  }
}
