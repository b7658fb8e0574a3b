import { createClient, createCluster } from '@keyv/redis';
import { once } from 'node:events';
import { Logger } from '@nestjs/common';

/**
 * The apps' Redis connections (the cache store's client, which the sessions library finds inside
 * the store): connecting, closing and logging them is the host's job, not the library's.
 */

export interface RedisConnectOptions {
  /** How long connecting may take before it is given up. */
  readonly connectTimeoutMs: number;
  /** The logger context of the connection's log lines. */
  readonly name: string;
}

/**
 * Connects a node-redis v5 client for shared state. Commands fail while disconnected instead of
 * queueing until Redis comes back (`disableOfflineQueue`); the client reconnects on its own with a
 * capped backoff, and logs one line when the connection drops and one when it is back. Rejects, with
 * the client destroyed, when Redis cannot be reached within connectTimeoutMs.
 */
export async function connectRedis(url: string, options: RedisConnectOptions) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: options.connectTimeoutMs, reconnectStrategy: reconnectBackoff },
  });
  logConnectionChanges(client, options.name);
  try {
    await withTimeout(
      client.connect(),
      options.connectTimeoutMs,
      () => new Error(`Redis at ${redactRedisUrl(url)} did not answer within ${options.connectTimeoutMs} ms`),
    );
  } catch (error) {
    client.destroy();
    throw error;
  }
  return client;
}

/**
 * Connects a node-redis v5 Redis Cluster client over `nodes` (host:port seeds; the rest of the
 * cluster is discovered from them). Every node client gets connectRedis's options: no offline
 * queue, so a command for a master that is down fails at once instead of waiting for it; the same
 * capped reconnect backoff. Logs as logConnectionChanges does, for the discovery and for each node.
 * Rejects, with the client destroyed, when the cluster cannot be discovered within connectTimeoutMs.
 *
 * `minimizeConnections`: a node client connects on its first command, not during discovery. An
 * eager discovery waits for every node client's first connect, which is retried until it succeeds:
 * a master that is down, met for the first time (at start-up, before its replica is promoted, or
 * in a topology read from a node that has not yet heard of a promotion), would hold that discovery
 * for ever, and node-redis joins every later one (MOVED included) to it, so the client would never
 * see the promoted replica. The start-up would fail too, although PostgreSQL can answer while the
 * cache is distrusted. clusterRedisClient reads the topology again when such a first connect is slow.
 */
export async function connectRedisCluster(nodes: readonly string[], options: RedisConnectOptions) {
  const cluster = createCluster({
    rootNodes: nodes.map((node) => ({ url: `redis://${node}` })),
    minimizeConnections: true,
    defaults: { disableOfflineQueue: true, socket: { connectTimeout: options.connectTimeoutMs, reconnectStrategy: reconnectBackoff } },
  });
  // The cluster's own 'error' is a failed discovery of the topology.
  logConnectionChanges(cluster, options.name, { error: 'error', ready: 'connect' });
  logConnectionChanges(cluster, `${options.name} node`, { error: 'node-error', ready: 'node-ready' });
  try {
    await withTimeout(
      cluster.connect(),
      options.connectTimeoutMs,
      () => new Error(`Redis Cluster at ${nodes.join(',')} did not answer within ${options.connectTimeoutMs} ms`),
    );
  } catch (error) {
    cluster.destroy();
    throw error;
  }
  return cluster;
}

/** Closes a v5 client, letting pending replies arrive for up to a second; idempotent. */
export async function closeRedis(client: NodeRedisV5Client): Promise<void> {
  if (!client.isOpen) return;
  await withTimeout(client.close(), 1_000, () => new Error('Redis close timed out')).catch(() => client.destroy());
}

/** What closing needs of a node-redis v5 client. */
export interface NodeRedisV5Client {
  readonly isOpen: boolean;
  close(): Promise<unknown>;
  destroy(): void;
}

/** What closing needs of the v4 client inside cache-manager-redis-yet. */
export interface NodeRedisV4Client {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  quit(): Promise<unknown>;
  disconnect(): Promise<void>;
}

/** Closes a v4 client; idempotent. */
export async function closeRedisV4(client: NodeRedisV4Client): Promise<void> {
  if (!client.isOpen) return;
  // QUIT waits for pending replies; while disconnected it would wait forever.
  if (!client.isReady) return client.disconnect();
  await withTimeout(client.quit(), 1_000, () => new Error('Redis QUIT timed out')).catch(() => (client.isOpen ? client.disconnect() : undefined));
}

/** Capped exponential backoff with jitter, as @keyv/redis uses by default. */
export function reconnectBackoff(retries: number): number {
  return Math.min(2 ** retries * 100, 2_000) + Math.floor(Math.random() * 100);
}

interface ConnectionEvents {
  on(event: string, listener: (error: Error) => void): unknown;
}

/**
 * One line when the connection drops and one when it is back, not one per retry. The 'error'
 * listener is also what keeps a dropped connection from crashing the process: node-redis re-emits
 * socket errors on the client, and an EventEmitter with no 'error' listener throws them. A cluster
 * client reports its nodes under other names (`node-error`, `node-ready`): `events` says which.
 */
export function logConnectionChanges(client: ConnectionEvents, context: string, events = { error: 'error', ready: 'ready' }): void {
  const log = new Logger(context);
  let failing = false;
  client.on(events.error, (error: Error) => {
    if (failing) return;
    failing = true;
    log.warn(`Redis connection failed: ${error.message}`);
  });
  client.on(events.ready, () => {
    if (!failing) return;
    failing = false;
    log.log('Redis connection restored');
  });
}

/** The URL without its credentials, for messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * Rejects with `onTimeout()` when `promise` has not settled within `ms`. Node's AbortSignal.timeout
 * keeps no process alive; the wait is cancelled once `promise` settles.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  const settled = new AbortController();
  const expired = once(AbortSignal.timeout(ms), 'abort', { signal: settled.signal }).then(
    () => Promise.reject(onTimeout()),
    // Cancelled: `promise` won the race.
    () => new Promise<never>(() => undefined),
  );
  try {
    return await Promise.race([promise, expired]);
  } finally {
    settled.abort();
  }
}
