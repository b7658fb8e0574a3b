export interface RedisScriptArguments {
  readonly keys: string[];
  readonly arguments: string[];
}

export interface RedisPipeline {
  set(key: string, value: string, options: { EX: number }): unknown;
  execAsPipeline(): Promise<unknown>;
}

/**
 * The part of a node-redis client the Redis adapters (session cache, rate limiter, login lockout)
 * use. Both node-redis v4 (inside cache-manager-redis-yet) and v5 (inside @keyv/redis) satisfy it,
 * so no adapter needs to know which one the configured cache store carries.
 */
export interface RedisClient {
  /** False while disconnected or reconnecting; commands sent then would sit in the offline queue. */
  readonly isReady: boolean;
  get(key: string): Promise<string | null>;
  // The { EX, NX } spelling is the only one v4 understands (v5 also accepts it, marked deprecated).
  set(key: string, value: string, options: { EX: number; NX?: true }): Promise<string | null>;
  multi(): RedisPipeline;
  del(keys: string[]): Promise<number>;
  ping(): Promise<unknown>;
  incr(key: string): Promise<number>;
  info(section: string): Promise<string>;
  eval(script: string, options: RedisScriptArguments): Promise<unknown>;
  evalSha(sha1: string, options: RedisScriptArguments): Promise<unknown>;
  pTTL(key: string): Promise<number>;
  on(event: 'error' | 'end' | 'reconnecting', listener: (...args: unknown[]) => void): unknown;
}

const COMMANDS: ReadonlyArray<Exclude<keyof RedisClient, 'isReady'>> = ['get', 'set', 'multi', 'del', 'ping', 'incr', 'info', 'eval', 'evalSha', 'pTTL', 'on'];

/**
 * Whether `candidate` has every command of RedisClient. A Redis Cluster client has not (it has no
 * `isReady`, and routes by key): findCacheStoreRedis sees it through clusterRedisClient instead.
 */
export function isRedisClient(candidate: unknown): candidate is RedisClient {
  const client = candidate as Partial<Record<keyof RedisClient, unknown>> | null | undefined;
  return typeof client?.isReady === 'boolean' && COMMANDS.every((command) => typeof client[command] === 'function');
}
