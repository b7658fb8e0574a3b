import { DataSource } from 'typeorm';
import { InstanceRegistry } from '../../application/ports/instance-registry.port';

/** The `instances` table. Times are the database's, so instances with skewed clocks agree. */
export class TypeOrmInstanceRegistry implements InstanceRegistry {
  constructor(private readonly dataSource: DataSource) {}

  async heartbeat(instanceId: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO instances (id, started_at, last_heartbeat_at) VALUES ($1, now(), now())
       ON CONFLICT (id) DO UPDATE SET last_heartbeat_at = now()`,
      [instanceId],
    );
  }

  async forgetSilentFor(ms: number): Promise<number> {
    const [, count] = (await this.dataSource.query(`DELETE FROM instances WHERE last_heartbeat_at < now() - make_interval(secs => $1)`, [ms / 1000])) as [unknown, number];
    return count;
  }
}
