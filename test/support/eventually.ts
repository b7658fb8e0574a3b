export interface EventuallyOptions {
  /** How long to keep retrying, from the first attempt (default 5 s). */
  readonly timeoutMs?: number;
  /** Pause between attempts (default 20 ms); 0 retries as soon as the event loop allows. */
  readonly intervalMs?: number;
}

/**
 * Runs `assertion` until it stops throwing and returns what it returned. Once `timeoutMs` has
 * passed it throws the last attempt's error unchanged, so a test that never gets there fails with
 * the assertion's own message ("Expected: 401, Received: 200"), not a bare "timed out".
 *
 * The bound is checked between attempts: an attempt that hangs is not cut short, so I/O inside it
 * needs a timeout of its own. The one polling loop of the tests; `waitFor` and `LoadStream.until`
 * are built on it.
 */
export async function expectEventually<T>(assertion: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const { timeoutMs = 5_000, intervalMs = 20 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    await new Promise((resolve) => (intervalMs > 0 ? setTimeout(resolve, intervalMs) : setImmediate(resolve)));
  }
}
