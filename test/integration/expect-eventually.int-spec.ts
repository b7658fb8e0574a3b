import { expectEventually } from '../support/eventually';

describe('expectEventually', () => {
  it('returns the value of the first attempt that passes, after retrying those that failed', async () => {
    let attempts = 0;
    const value = await expectEventually(
      async () => {
        attempts += 1;
        expect(attempts).toBeGreaterThanOrEqual(3);
        return `passed on attempt ${attempts}`;
      },
      { timeoutMs: 2_000, intervalMs: 1 },
    );
    expect(value).toBe('passed on attempt 3');
    expect(attempts).toBe(3);
  });

  it('does not run the assertion again once it has passed', async () => {
    let attempts = 0;
    await expect(expectEventually(() => ++attempts, { timeoutMs: 1_000 })).resolves.toBe(1);
    expect(attempts).toBe(1);
  });

  it("fails with the assertion's own message when it never passes", async () => {
    const status = 200;
    await expect(expectEventually(() => expect(status).toBe(401), { timeoutMs: 100, intervalMs: 10 })).rejects.toThrow(/Expected: 401\s+Received: 200/);
  });

  it('throws the error of the last attempt, as it was thrown', async () => {
    let attempts = 0;
    const thrown: Error[] = [];
    const failure = await expectEventually(
      () => {
        attempts += 1;
        const error = new Error(`attempt ${attempts} failed`);
        thrown.push(error);
        throw error;
      },
      { timeoutMs: 150, intervalMs: 10 },
    ).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(attempts).toBeGreaterThan(1);
    expect(failure).toBe(thrown[thrown.length - 1]);
    expect(failure).toEqual(new Error(`attempt ${attempts} failed`));
  });

  it('retries a rejected promise like a thrown error', async () => {
    let attempts = 0;
    await expect(
      expectEventually(
        async () => {
          attempts += 1;
          if (attempts < 2) throw new Error('not yet');
          return 'ok';
        },
        { timeoutMs: 1_000, intervalMs: 1 },
      ),
    ).resolves.toBe('ok');
  });

  it('keeps trying for the whole bound and not much longer, pausing between attempts', async () => {
    let attempts = 0;
    const started = Date.now();
    await expect(
      expectEventually(
        () => {
          attempts += 1;
          throw new Error('never');
        },
        { timeoutMs: 300, intervalMs: 50 },
      ),
    ).rejects.toThrow('never');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(300);
    // Generous: two shared cores may delay a timer, but not by a second.
    expect(elapsed).toBeLessThan(300 + 1_000);
    // At most one attempt per interval over the bound (timers fire late, never early), more than one.
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(8);
  });

  it('makes exactly one attempt with a bound of 0', async () => {
    let attempts = 0;
    await expect(
      expectEventually(
        () => {
          attempts += 1;
          throw new Error('once');
        },
        { timeoutMs: 0 },
      ),
    ).rejects.toThrow('once');
    expect(attempts).toBe(1);
  });
});
