import { CacheProbe, CachedSessionState, SessionCache } from '../../application/ports/session-cache.port';
import { SESSIONS_DEFAULTS } from '../../sessions.options';
import { assertHashTagFreePrefix } from '../redis/key-prefix';
import { callRedis, RedisUnavailableError } from '../redis/redis-call';
import type { RedisClient } from '../redis/redis-client';
import { revocationTtl } from './revocation-ttl';

/** Thrown when Redis is not connected or too slow; callers read it as "cache unavailable". */
export class SessionCacheUnavailableError extends RedisUnavailableError {
  override readonly name: string = 'SessionCacheUnavailableError';
}

/** The commands this adapter sends. */
export type SessionCacheRedisClient = Pick<RedisClient, 'isReady' | 'get' | 'set' | 'multi' | 'del' | 'ping' | 'incr' | 'info' | 'on'>;

export interface RedisSessionCacheOptions {
  /** Put before every key; must not contain braces, which would move the cluster hash tag. */
  readonly keyPrefix: string;
  /** Upper bound for one round trip. Default: SESSIONS_DEFAULTS.cacheTimeoutMs. */
  readonly timeoutMs?: number;
  /**
   * Revocations per pipeline, each bounded by timeoutMs. Default 1,000: a 10,000-key pipeline took
   * 50-143 ms on two busy cores and sometimes passed the 250 ms timeout; 1,000 keys take 12-24 ms
   * for the same total (bench/revoke-all-scaling.ts).
   */
  readonly chunkSize?: number;
  /** Shown in logs and health output. */
  readonly description?: string;
  /** Where the client points (`redis://host:port/db`, no credentials): with the prefix, the cache namespace. */
  readonly location?: string;
}

const ACTIVE = 'a';
const REVOKED = 'r';

/**
 * Keys are `${prefix}{${userId}}:${sessionId}`: the `{userId}` hash tag keeps all of a user's
 * keys in one Redis Cluster slot, so a revoke-all pipeline never spans slots. No operation
 * here enumerates keys (no KEYS, no SCAN): every key is addressed exactly.
 */
/**
 * Ids in lower case whatever case a caller used: PostgreSQL matches uuids in any case, so a
 * revocation given `ABC…` ends the session, and its marker must land on the key the session
 * check reads (access tokens carry canonical, lower-case ids).
 */
export function sessionCacheKey(keyPrefix: string, userId: string, sessionId: string): string {
  return `${keyPrefix}{${userId.toLowerCase()}}:${sessionId.toLowerCase()}`;
}

/** The counter every heartbeat increments (see CacheProbe.epoch); one small key per prefix, no TTL. */
export function cacheEpochKey(keyPrefix: string): string {
  return `${keyPrefix}cache-epoch`;
}

/**
 * The `run_id` of the server, or of every master of a cluster (sorted, comma-separated; a
 * cluster's INFO is each master's in turn, see clusterRedisClient): a restart, or a master
 * replaced by its promoted replica, changes it.
 */
function serverIdOf(info: string): string | null {
  const runIds = [...info.matchAll(/^run_id:(\S+)/gm)].map((match) => match[1]);
  return runIds.length > 0 ? runIds.sort().join(',') : null;
}

export class RedisSessionCache implements SessionCache {
  readonly description: string;
  readonly namespace: string;
  private readonly keyPrefix: string;
  private readonly timeoutMs: number;
  private readonly chunkSize: number;

  constructor(
    private readonly client: SessionCacheRedisClient,
    options: RedisSessionCacheOptions,
  ) {
    assertHashTagFreePrefix(options.keyPrefix, 'session cache');
    this.keyPrefix = options.keyPrefix;
    this.timeoutMs = options.timeoutMs ?? SESSIONS_DEFAULTS.cacheTimeoutMs;
    this.chunkSize = Math.max(1, options.chunkSize ?? 1_000);
    this.description = options.description ?? 'redis';
    this.namespace = `${options.location ?? 'redis'} ${options.keyPrefix}`;
  }

  async get(userId: string, sessionId: string): Promise<CachedSessionState | null> {
    const value = await this.call('GET', () => this.client.get(this.key(userId, sessionId)));
    if (value === ACTIVE) return 'active';
    if (value === REVOKED) return 'revoked';
    return null;
  }

  async rememberActive(userId: string, sessionId: string, ttlSeconds: number): Promise<void> {
    // Rounded down: an "active" answer must never be trusted longer than asked.
    const ttl = Math.floor(ttlSeconds);
    if (!(ttl > 0)) return;
    // NX: a refill that read the session before a revocation must not overwrite the marker.
    await this.call('SET NX', () => this.client.set(this.key(userId, sessionId), ACTIVE, { EX: ttl, NX: true }));
  }

  async markRevoked(userId: string, sessionIds: readonly string[], ttlSeconds: number): Promise<void> {
    if (sessionIds.length === 0) return;
    const ttl = revocationTtl(ttlSeconds);
    for (let start = 0; start < sessionIds.length; start += this.chunkSize) {
      const pipeline = this.client.multi();
      for (const sessionId of sessionIds.slice(start, start + this.chunkSize)) {
        pipeline.set(this.key(userId, sessionId), REVOKED, { EX: ttl });
      }
      // One round trip per chunk; each chunk gets the full timeout since its size is bounded.
      await this.call('SET pipeline', () => pipeline.execAsPipeline());
    }
  }

  async ping(): Promise<void> {
    await this.call('PING', () => this.client.ping());
  }

  async probe(): Promise<CacheProbe> {
    const [epoch, serverId] = await Promise.all([
      this.call('INCR', () => this.client.incr(cacheEpochKey(this.keyPrefix))),
      this.call('INFO', () => this.client.info('server')).then(
        (info) => serverIdOf(info),
        (error: unknown) => {
          // INFO may be refused (ACL, renamed command); the epoch still fences the dataset then.
          if (error instanceof SessionCacheUnavailableError) throw error;
          return null;
        },
      ),
    ]);
    return { serverId, epoch: Number(epoch) };
  }

  onConnectionLost(listener: (reason: string) => void): void {
    // node-redis emits 'error' for a broken socket, then 'reconnecting'; 'end' when it gives up.
    this.client.on('error', (error) => listener(`Redis connection error: ${(error as Error)?.message ?? String(error)}`));
    this.client.on('reconnecting', () => listener('Redis connection lost, reconnecting'));
    this.client.on('end', () => listener('Redis connection closed'));
  }

  private key(userId: string, sessionId: string): string {
    return sessionCacheKey(this.keyPrefix, userId, sessionId);
  }

  /** See callRedis: refused at once while disconnected, bounded by timeoutMs otherwise. */
  private call<T>(what: string, command: () => Promise<T>): Promise<T> {
    return callRedis(this.client, this.timeoutMs, what, command, SessionCacheUnavailableError);
  }
}
