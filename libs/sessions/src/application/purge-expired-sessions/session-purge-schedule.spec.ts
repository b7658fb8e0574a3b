import { SessionPurgePolicy } from '../settings';
import { PurgeReport } from './expired-sessions-purge';
import { PurgeRun, SessionPurgeSchedule } from './session-purge-schedule';

const POLICY: SessionPurgePolicy = { intervalSeconds: 60, marginSeconds: 604_800, batchSize: 500, pauseMs: 100, maxBatchesPerRun: 1_000 };
const NOTHING: PurgeReport = { kind: 'nothing_expired', before: new Date(0) };

/** Counts runs; a run can be held open to see shutdown wait for it. */
class CountingPurge implements PurgeRun {
  runs = 0;
  signals: Array<AbortSignal | undefined> = [];
  hold: Promise<void> | undefined;

  async run(signal?: AbortSignal): Promise<PurgeReport> {
    this.runs += 1;
    this.signals.push(signal);
    await this.hold;
    return NOTHING;
  }
}

describe('SessionPurgeSchedule', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs once per interval, the first one interval after start-up, never overlapping itself', async () => {
    const purge = new CountingPurge();
    const schedule = new SessionPurgeSchedule(purge, POLICY);
    schedule.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(59_999);
    expect(purge.runs).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(purge.runs).toBe(1);
    await jest.advanceTimersByTimeAsync(120_000);
    expect(purge.runs).toBe(3);
    await schedule.onApplicationShutdown();
  });

  it('never runs when the interval is 0', async () => {
    const purge = new CountingPurge();
    const schedule = new SessionPurgeSchedule(purge, { ...POLICY, intervalSeconds: 0 });
    schedule.onApplicationBootstrap();
    expect(schedule.scheduled).toBe(false);
    await jest.advanceTimersByTimeAsync(10 * 86_400_000);
    expect(purge.runs).toBe(0);
  });

  it('stops on shutdown: no further run, and a run in progress is told to stop and waited for', async () => {
    const purge = new CountingPurge();
    let release!: () => void;
    purge.hold = new Promise((resolve) => (release = resolve));
    const schedule = new SessionPurgeSchedule(purge, POLICY);
    schedule.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(purge.runs).toBe(1);

    let closed = false;
    const closing = schedule.onApplicationShutdown().then(() => (closed = true));
    expect(purge.signals[0]?.aborted).toBe(true);
    await jest.advanceTimersByTimeAsync(0);
    expect(closed).toBe(false);
    release();
    await closing;
    expect(schedule.scheduled).toBe(false);
    await jest.advanceTimersByTimeAsync(10 * 60_000);
    expect(purge.runs).toBe(1);
  });

  it('unrefs its timer, so it never keeps the process alive', async () => {
    const unref = jest.spyOn(global, 'setTimeout');
    const schedule = new SessionPurgeSchedule(new CountingPurge(), POLICY);
    schedule.onApplicationBootstrap();
    const timer = unref.mock.results.at(-1)?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    await schedule.onApplicationShutdown();
    unref.mockRestore();
  });

  it('logs a failed run and runs again at the next interval', async () => {
    let runs = 0;
    const failing: PurgeRun = {
      run: async () => {
        runs += 1;
        throw new Error('database down');
      },
    };
    const schedule = new SessionPurgeSchedule(failing, POLICY);
    schedule.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(120_000);
    expect(runs).toBe(2);
    await schedule.onApplicationShutdown();
  });
});
