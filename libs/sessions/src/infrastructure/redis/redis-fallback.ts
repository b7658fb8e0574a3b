import { Logger } from '@nestjs/common';
import { callRedis } from './redis-call';
import type { RedisClient } from './redis-client';

/**
 * Logs the switch to a fallback once, and the return to Redis once, rather than one line per
 * request during an outage.
 */
export class FallbackLog {
  private readonly logger: Logger;
  private degraded = false;

  constructor(
    context: string,
    private readonly consequence: string,
  ) {
    this.logger = new Logger(context);
  }

  get isDegraded(): boolean {
    return this.degraded;
  }

  fellBack(error: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.logger.warn(`Redis unavailable (${reason}); ${this.consequence} until it is back`);
  }

  recovered(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.logger.log('Redis is back; shared state is used again');
  }
}

/**
 * One Redis call for an adapter that has an in-process fallback (rate limits, login lockout): any
 * failure (not connected, too slow, an error reply) is answered by `fallback` instead, so shared
 * counting degrades to per instance and never turns a request into an error.
 */
export async function callRedisOr<T>(
  client: Pick<RedisClient, 'isReady'>,
  timeoutMs: number,
  log: FallbackLog,
  what: string,
  command: () => Promise<T>,
  fallback: () => Promise<T>,
): Promise<T> {
  let result: T;
  try {
    result = await callRedis(client, timeoutMs, what, command);
  } catch (error) {
    log.fellBack(error);
    return fallback();
  }
  log.recovered();
  return result;
}
