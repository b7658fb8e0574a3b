import { AuditRetentionPolicy } from '../settings';
import { AuditMaintenanceRun, AuditMaintenanceSchedule } from './audit-maintenance-schedule';
import { AuditMaintenanceReport, retentionCutoff } from './audit-retention';

const POLICY: AuditRetentionPolicy = { months: 13, exportDirectory: null, intervalSeconds: 60, partitionsAhead: 3 };
const NOTHING: AuditMaintenanceReport = { created: [], expired: [], retained: [], exportDirectoryMissing: false, keysReleased: 0 };

/** Counts what the schedule asks for; creation can be made to fail. */
class CountingMaintenance implements AuditMaintenanceRun {
  created = 0;
  runs = 0;
  failCreation = false;
  async createAhead(): Promise<string[]> {
    this.created += 1;
    if (this.failCreation) throw new Error('database down');
    return [];
  }
  async run(): Promise<AuditMaintenanceReport> {
    this.runs += 1;
    return NOTHING;
  }
}

describe('retentionCutoff', () => {
  it('goes back calendar months in UTC, to the last day of a shorter month', () => {
    expect(retentionCutoff(new Date('2026-12-03T10:00:00Z'), 13).toISOString()).toBe('2025-11-03T10:00:00.000Z');
    expect(retentionCutoff(new Date('2026-03-31T23:59:59Z'), 1).toISOString()).toBe('2026-02-28T23:59:59.000Z');
    expect(retentionCutoff(new Date('2026-01-15T00:00:00Z'), 12).toISOString()).toBe('2025-01-15T00:00:00.000Z');
  });
});

describe('AuditMaintenanceSchedule', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('creates the partitions ahead at bootstrap, then runs once per interval', async () => {
    const maintenance = new CountingMaintenance();
    const schedule = new AuditMaintenanceSchedule(maintenance, POLICY);
    await schedule.onApplicationBootstrap();
    expect(maintenance).toMatchObject({ created: 1, runs: 0 });
    await jest.advanceTimersByTimeAsync(60_000);
    expect(maintenance.runs).toBe(1);
    await jest.advanceTimersByTimeAsync(120_000);
    expect(maintenance.runs).toBe(3);
    await schedule.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(600_000);
    expect(maintenance.runs).toBe(3);
  });

  it('stops start-up when the partitions cannot be created: no entry could be written', async () => {
    const maintenance = new CountingMaintenance();
    maintenance.failCreation = true;
    await expect(new AuditMaintenanceSchedule(maintenance, POLICY).onApplicationBootstrap()).rejects.toThrow('database down');
  });

  it('with interval 0 only creates at bootstrap', async () => {
    const maintenance = new CountingMaintenance();
    const schedule = new AuditMaintenanceSchedule(maintenance, { ...POLICY, intervalSeconds: 0 });
    await schedule.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10 * 86_400_000);
    expect(maintenance).toMatchObject({ created: 1, runs: 0 });
  });
});
