import type { RedisClient } from './redis-client';

/** Redis is disconnected, too slow, or answered with an error. */
export class RedisUnavailableError extends Error {
  override readonly name: string = 'RedisUnavailableError';
}

/** Rejects with `onTimeout()` when `promise` has not settled within `ms`; the timer never keeps the process alive. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs one Redis call. node-redis queues commands while disconnected and would answer them only
 * after a reconnect, i.e. never during an outage. So: refuse at once when the client is not ready
 * (the queue does not grow), and give up after timeoutMs on a connection that hangs. A command that
 * times out may still run later; every caller's commands are safe to land late (SET NX never
 * overwrites a marker, a late revocation marker is still correct, a late counter hit only counts).
 * `unavailable` is the error class the caller's own callers expect.
 */
export async function callRedis<T>(
  client: Pick<RedisClient, 'isReady'>,
  timeoutMs: number,
  what: string,
  command: () => Promise<T>,
  unavailable: new (message: string) => Error = RedisUnavailableError,
): Promise<T> {
  if (!client.isReady) throw new unavailable(`Redis is not connected (${what})`);
  return withTimeout(command(), timeoutMs, () => new unavailable(`Redis did not answer ${what} within ${timeoutMs} ms`));
}
