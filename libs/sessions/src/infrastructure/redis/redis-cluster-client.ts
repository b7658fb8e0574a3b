import type { RedisClient, RedisPipeline, RedisScriptArguments } from './redis-client';

/** One master of a node-redis 5 cluster client, as its `masters` list holds it. */
export interface RedisClusterMaster {
  readonly address: string;
  /** Its node client once one was made (node clients connect on first use with `minimizeConnections`). */
  readonly client?: RedisClusterNodeClient;
}

export interface ClusterRedisClientOptions {
  /**
   * How long asking every master may take before the topology is read again, even though the
   * call has not failed. Default 500 ms.
   */
  readonly slowMasterMs?: number;
}

/** The node client of one master: what the adapter asks every master. */
export interface RedisClusterNodeClient {
  readonly isReady: boolean;
  /** The node's connection options, from which the cluster can read the topology again. */
  readonly options?: unknown;
  ping(): Promise<unknown>;
  info(section: string): Promise<string>;
}

/**
 * The part of a node-redis 5 cluster client (`createCluster`, as @keyv/redis 5 carries it) that
 * clusterRedisClient uses. Commands with keys are routed to the master of their first key's slot;
 * a MULTI (pipeline) to the slot of its first command's key.
 */
export interface NodeRedisCluster {
  readonly isOpen: boolean;
  readonly masters: readonly RedisClusterMaster[];
  nodeClient(node: never): Promise<RedisClusterNodeClient>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options: { EX: number; NX?: true }): Promise<string | null>;
  multi(): RedisPipeline;
  del(keys: string[]): Promise<number>;
  incr(key: string): Promise<number>;
  eval(script: string, options: RedisScriptArguments): Promise<unknown>;
  evalSha(sha1: string, options: RedisScriptArguments): Promise<unknown>;
  pTTL(key: string): Promise<number>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly _options?: { readonly rootNodes?: ReadonlyArray<{ readonly url?: string; readonly socket?: { readonly host?: string; readonly port?: number } }> };
  /** node-redis's slot map; `rediscover` reads the topology again from a node (what the client itself does on MOVED). */
  readonly _slots?: { rediscover?(startWith: { readonly options?: unknown }): Promise<void> };
}

const CLUSTER_COMMANDS = ['get', 'set', 'multi', 'del', 'incr', 'eval', 'evalSha', 'pTTL', 'on', 'nodeClient'] as const;

/** Whether `candidate` is a node-redis 5 cluster client (recognised by shape, so a second copy of the package also counts). */
export function isRedisCluster(candidate: unknown): candidate is NodeRedisCluster {
  const cluster = candidate as Partial<Record<string, unknown>> | null | undefined;
  return (
    typeof cluster?.isOpen === 'boolean' &&
    cluster.isReady === undefined &&
    Array.isArray(cluster.masters) &&
    CLUSTER_COMMANDS.every((command) => typeof cluster[command] === 'function')
  );
}

/**
 * A Redis Cluster client seen through the adapters' RedisClient port. Every adapter's keys are
 * built so that the keys of one call share a hash tag (`{userId}`, `{email digest}`, `{throttler
 * key}`), so each keyed command, script and pipeline lands on one slot and is routed as it is.
 * What has no key is asked of every master, since no single node answers for the cluster:
 *
 * - `isReady` is the cluster client's `isOpen`: a cluster client is never "reconnecting" as a
 *   whole, its node clients are. A command for a master that is down fails at once (the node
 *   clients run with the offline queue disabled) or within the caller's timeout, and that failure
 *   is what distrusts the cache (or sends a rate-limit hit to the fallback) for that call.
 * - `ping` pings every master, so the heartbeat fails while any part of the keyspace is unreachable.
 * - `info` is every master's INFO, one section after another: the session cache's probe reads
 *   every `run_id` in it, so a master replaced by its promoted replica (whose copy may lack the
 *   newest markers, replication being asynchronous) changes the server identity and the cache is
 *   distrusted and repaired from PostgreSQL.
 * - `on('error' | 'reconnecting' | 'end')` listens to the cluster's own event and its node
 *   clients' (`node-error`, `node-reconnecting`; `disconnect` when the cluster client closes).
 */
export function clusterRedisClient(cluster: NodeRedisCluster, options: ClusterRedisClientOptions = {}): RedisClient {
  const slowMasterMs = options.slowMasterMs ?? 500;
  const everyMaster = async <T>(ask: (client: RedisClusterNodeClient, master: RedisClusterMaster) => Promise<T>): Promise<T[]> => {
    const masters = [...cluster.masters];
    if (masters.length === 0) {
      rediscover(cluster, masters);
      throw new Error('The Redis Cluster client knows no master');
    }
    // A master whose node client is still making its first connection (a node that is down, met
    // for the first time) does not fail the call: its connect is retried until it succeeds, and
    // the caller's timeout is what answers. Past slowMasterMs, read the topology again all the same.
    const slow = setTimeout(() => rediscover(cluster, masters), slowMasterMs);
    slow.unref();
    try {
      return await Promise.all(masters.map(async (master) => ask(await cluster.nodeClient(master as never), master)));
    } catch (error) {
      rediscover(cluster, masters);
      throw error;
    } finally {
      clearTimeout(slow);
    }
  };
  return {
    get isReady() {
      return cluster.isOpen;
    },
    get: (key) => cluster.get(key),
    set: (key, value, options) => cluster.set(key, value, options),
    multi: () => cluster.multi(),
    del: (keys) => cluster.del(keys),
    incr: (key) => cluster.incr(key),
    eval: (script, options) => cluster.eval(script, options),
    evalSha: (sha1, options) => cluster.evalSha(sha1, options),
    pTTL: (key) => cluster.pTTL(key),
    ping: () => everyMaster((client) => client.ping()),
    info: async (section) => (await everyMaster(async (client, master) => `# master ${master.address}\r\n${await client.info(section)}`)).join('\r\n'),
    on(event, listener) {
      if (event === 'error') {
        cluster.on('error', listener);
        cluster.on('node-error', listener);
      } else if (event === 'reconnecting') {
        cluster.on('node-reconnecting', listener);
      } else {
        cluster.on('disconnect', listener);
      }
      return this;
    },
  };
}

/**
 * Asks the cluster client to read the topology again, from a master that still answers (any of
 * them, so that one node slow to learn of a promotion is not asked every time), or a seed node
 * when none does. node-redis 5 does so by itself only on a MOVED reply, which a master that is
 * down never sends: without this, the client would keep a dead master's slots pointed at it after
 * its replica was promoted, and every command for them would fail for ever. Not awaited: the
 * failed call is answered at once, and a later heartbeat sees the new masters (and their new
 * run_ids, which distrust and repair the cache). node-redis runs one rediscovery at a time and
 * joins later calls to it, so it must always settle: with `minimizeConnections` (see
 * connectRedisCluster) it reads CLUSTER SLOTS on a connection that is never retried and waits for
 * no node client to connect, whereas an eager connect to a node that is down would be retried for
 * ever, and every later rediscovery (MOVED included) would wait on it.
 */
function rediscover(cluster: NodeRedisCluster, masters: readonly RedisClusterMaster[]): void {
  const slots = cluster._slots;
  if (typeof slots?.rediscover !== 'function') return;
  const answering = masters.filter((master) => master.client?.isReady && master.client.options !== undefined).map((master) => master.client!);
  const seeds = cluster._options?.rootNodes ?? [];
  // No seed to fall back on: node-redis would read the topology from its default, localhost:6379.
  if (answering.length === 0 && seeds.length === 0) return;
  const from = answering.length > 0 ? answering[Math.floor(Math.random() * answering.length)] : { options: seeds[Math.floor(Math.random() * seeds.length)] };
  slots.rediscover(from).catch(() => undefined);
}

/**
 * `redis-cluster://host:port,host:port` of the cluster's seed nodes, sorted, never credentials:
 * with the key prefix, the cache namespace (see redisLocation). Two instances given the same seeds
 * in another order share a namespace; other seeds of the same cluster only duplicate markers.
 */
export function redisClusterLocation(cluster: NodeRedisCluster): string {
  const seeds = (cluster._options?.rootNodes ?? []).map((node) => {
    if (node.socket?.host) return `${node.socket.host}:${node.socket.port ?? 6379}`;
    try {
      const url = new URL(node.url ?? '');
      return `${url.hostname}:${url.port || 6379}`;
    } catch {
      return 'unknown';
    }
  });
  return `redis-cluster://${seeds.length > 0 ? [...new Set(seeds)].sort().join(',') : 'unknown'}`;
}
