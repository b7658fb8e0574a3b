import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { RedisCommands } from './redis-session-cache';

export interface RedisScriptArguments {
  readonly keys: string[];
  readonly arguments: string[];
}

/**
 * The node-redis client the cache store carries, with what the rate limiter and the login
 * lockout need on top of the session cache's commands. Both v4 (cache-manager-redis-yet) and
 * v5 (@keyv/redis) fit it.
 */
export interface RedisClient extends RedisCommands {
  eval(script: string, options: RedisScriptArguments): Promise<unknown>;
  evalSha(sha1: string, options: RedisScriptArguments): Promise<unknown>;
  pTTL(key: string): Promise<number>;
  del(keys: string[]): Promise<number>;
}

/** Redis is disconnected, too slow, or answered with an error. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/**
 * Runs one Redis call, refusing at once while the client is not ready (node-redis would
 * otherwise queue the command until a reconnect) and giving up after timeoutMs.
 */
export async function callRedis<T>(client: RedisClient, timeoutMs: number, what: string, command: () => Promise<T>): Promise<T> {
  if (!client.isReady) throw new RedisUnavailableError(`Redis is not connected (${what})`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisUnavailableError(`Redis did not answer ${what} within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([command(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A Lua script sent by its SHA-1 (EVALSHA), and in full only when Redis does not know it yet
 * (after a restart or a SCRIPT FLUSH). A script runs atomically: no other command interleaves.
 */
export class RedisScript {
  private readonly sha1: string;

  constructor(private readonly source: string) {
    this.sha1 = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, args: RedisScriptArguments): Promise<unknown> {
    try {
      return await client.evalSha(this.sha1, args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, args);
    }
  }
}

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

/** Seconds for a Retry-After or a time-to-expire, rounded up: never tell a client to come back too early. */
export function secondsFromMs(ms: number): number {
  return ms > 0 ? Math.ceil(ms / 1000) : 0;
}
