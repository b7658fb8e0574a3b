import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sealAuditEntries } from './typeorm-audit-seals';

/**
 * Seals the audit trail every `intervalSeconds` (0: never, for a host that runs sealAuditEntries
 * itself, from one place). Every instance runs one; the advisory lock lets one seal at a time and
 * the others skip that round. Each seal's hash is logged (`audit_sealed`), so a copy of the chain's
 * head lives outside the database: rewriting the trail and every seal after it would still
 * disagree with the log. A failed round is logged and tried again at the next tick.
 */
export class AuditSealer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditSealer.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly schema: string,
    private readonly intervalSeconds: number,
  ) {}

  onApplicationBootstrap(): void {
    if (this.intervalSeconds === 0) return;
    this.timer = setInterval(() => void this.sealNow(), this.intervalSeconds * 1000);
    // A pending seal never keeps the process alive: the next instance, or the next start, seals.
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    // Let a round in progress finish before the DataSource closes under it.
    await this.running;
  }

  /** One sealing round, unless one is already running in this process; never throws. */
  sealNow(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<void> {
    try {
      const run = await sealAuditEntries(this.dataSource, { schema: this.schema });
      for (const seal of run.seals) this.logger.log({ msg: 'audit_sealed', ...seal });
    } catch (error) {
      this.logger.warn({ msg: 'audit_seal_failed', error: (error as Error).message });
    }
  }
}
