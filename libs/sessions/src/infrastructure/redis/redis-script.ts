import { createHash } from 'node:crypto';
import type { RedisClient, RedisScriptArguments } from './redis-client';

/**
 * A Lua script sent by its SHA-1 (EVALSHA), and in full only when Redis does not know it yet
 * (after a restart or a SCRIPT FLUSH). A script runs atomically: no other command interleaves.
 */
export class RedisScript {
  private readonly sha1: string;

  constructor(private readonly source: string) {
    this.sha1 = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Pick<RedisClient, 'eval' | 'evalSha'>, args: RedisScriptArguments): Promise<unknown> {
    try {
      return await client.evalSha(this.sha1, args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, args);
    }
  }
}
