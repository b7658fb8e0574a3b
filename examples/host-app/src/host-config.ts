/** What the host reads from its environment, once, and hands to its modules. */
export interface HostConfig {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** HS256 secret of the access tokens, at least 32 characters. */
  readonly accessTokenSecret: string;
  /** Prefix of the library's Redis keys; the library's default when absent. */
  readonly cacheKeyPrefix?: string;
}

export type HttpAdapterName = 'express' | 'fastify';

export function hostConfigFromEnvironment(env: NodeJS.ProcessEnv): HostConfig & { adapter: HttpAdapterName; port: number } {
  const missing = ['DATABASE_URL', 'REDIS_URL', 'ACCESS_TOKEN_SECRET'].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`Set ${missing.join(', ')} (see examples/host-app/README.md)`);
  const adapter = env.HTTP_ADAPTER ?? 'express';
  if (adapter !== 'express' && adapter !== 'fastify') throw new Error(`HTTP_ADAPTER must be express or fastify, not ${adapter}`);
  const port = Number(env.PORT ?? 3100);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error('PORT must be a port number');
  return {
    databaseUrl: env.DATABASE_URL!,
    redisUrl: env.REDIS_URL!,
    accessTokenSecret: env.ACCESS_TOKEN_SECRET!,
    cacheKeyPrefix: env.CACHE_KEY_PREFIX || undefined,
    adapter,
    port,
  };
}
