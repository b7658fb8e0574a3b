import { EventEmitter } from 'node:events';
import { RedisSessionCache } from '../cache/redis-session-cache';
import { isRedisClient } from './redis-client';
import { clusterRedisClient, isRedisCluster, type NodeRedisCluster, redisClusterLocation, type RedisClusterNodeClient } from './redis-cluster-client';

interface FakeNode extends RedisClusterNodeClient {
  isReady: boolean;
  runId: string;
}

function fakeNode(runId: string, isReady = true): FakeNode {
  const node: FakeNode = {
    isReady,
    runId,
    options: { socket: { host: '127.0.0.1', port: Number(runId.replace(/\D/g, '')) || 7000 } },
    ping: () => (node.isReady ? Promise.resolve('PONG') : Promise.reject(new Error('The client is closed'))),
    info: () =>
      node.isReady ? Promise.resolve(`# Server\r\nredis_version:8.0.0\r\nrun_id:${node.runId}\r\n`) : Promise.reject(new Error('The client is closed')),
  };
  return node;
}

/** A node-redis 5 cluster client's shape over fake masters; keyed commands are not exercised here. */
function fakeCluster(nodes: FakeNode[], { connecting = [] as FakeNode[] } = {}) {
  const events = new EventEmitter();
  const rediscovered: unknown[] = [];
  // A master in `connecting` is making its first connection: no client yet, and nodeClient never settles.
  const masters = nodes.map((node, i) => ({ address: `127.0.0.1:${7000 + i}`, node, client: connecting.includes(node) ? undefined : node }));
  const unused = () => Promise.reject(new Error('not used'));
  const cluster = {
    isOpen: true,
    masters,
    nodeClient: (master: (typeof masters)[number]) => (master.client ? Promise.resolve(master.client) : new Promise<never>(() => undefined)),
    get: unused,
    set: unused,
    multi: () => {
      throw new Error('not used');
    },
    del: unused,
    incr: () => Promise.resolve(1),
    eval: unused,
    evalSha: unused,
    pTTL: unused,
    on: (event: string, listener: (...args: unknown[]) => void) => events.on(event, listener),
    _options: { rootNodes: [{ url: 'redis://cache-b:7001' }, { socket: { host: 'cache-a', port: 7000 } }, { url: 'redis://cache-b:7001' }] },
    _slots: {
      rediscover: (from: { options?: unknown }) => {
        rediscovered.push(from.options);
        return Promise.resolve();
      },
    },
  };
  return { cluster: cluster as unknown as NodeRedisCluster, events, rediscovered };
}

describe('clusterRedisClient', () => {
  it('recognises a cluster client by shape, and a single client is not one', () => {
    const { cluster } = fakeCluster([fakeNode('a')]);
    expect(isRedisCluster(cluster)).toBe(true);
    expect(isRedisClient(cluster)).toBe(false);
    expect(isRedisClient(clusterRedisClient(cluster))).toBe(true);
    expect(isRedisCluster({ ...cluster, isReady: true })).toBe(false);
  });

  it('pings every master: one that does not answer fails the ping, and the topology is read again from one that does', async () => {
    const healthy = fakeNode('a');
    const down = fakeNode('b');
    const { cluster, rediscovered } = fakeCluster([healthy, down]);
    const client = clusterRedisClient(cluster);
    await expect(client.ping()).resolves.toEqual(['PONG', 'PONG']);
    expect(rediscovered).toEqual([]);
    down.isReady = false;
    await expect(client.ping()).rejects.toThrow('The client is closed');
    expect(rediscovered).toEqual([healthy.options]);
  });

  it('reads the topology again when a master is still making its first connection, although the call has not failed', async () => {
    const healthy = fakeNode('a');
    const unreachable = fakeNode('b');
    const { cluster, rediscovered } = fakeCluster([healthy, unreachable], { connecting: [unreachable] });
    const client = clusterRedisClient(cluster, { slowMasterMs: 20 });
    // The caller's timeout answers such a call (the session cache's, the rate limiter's); the call itself never settles.
    const info = client.info('server');
    let settled = false;
    info.then(
      () => (settled = true),
      () => (settled = true),
    );
    // A timer set after slowMasterMs's fires after it.
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(rediscovered).toEqual([healthy.options]);
    expect(settled).toBe(false);
  });

  it('does not read the topology again while every master answers in time', async () => {
    const { cluster, rediscovered } = fakeCluster([fakeNode('a'), fakeNode('b')]);
    const client = clusterRedisClient(cluster, { slowMasterMs: 20 });
    await expect(client.ping()).resolves.toEqual(['PONG', 'PONG']);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(rediscovered).toEqual([]);
  });

  it('reads the topology again from a seed when no master answers', async () => {
    const { cluster, rediscovered } = fakeCluster([fakeNode('a', false)]);
    await expect(clusterRedisClient(cluster).info('server')).rejects.toThrow();
    expect(rediscovered).toHaveLength(1);
    expect(cluster._options?.rootNodes).toContainEqual(rediscovered[0]);
  });

  it("gives the session cache every master's run_id as its server id, so a promoted replica changes it", async () => {
    const nodes = [fakeNode('run-c'), fakeNode('run-a'), fakeNode('run-b')];
    const { cluster } = fakeCluster(nodes);
    const cache = new RedisSessionCache(clusterRedisClient(cluster), { keyPrefix: 't:' });
    await expect(cache.probe()).resolves.toEqual({ serverId: 'run-a,run-b,run-c', epoch: 1 });
    nodes[2].runId = 'run-promoted';
    await expect(cache.probe()).resolves.toEqual({ serverId: 'run-a,run-c,run-promoted', epoch: 1 });
  });

  it('reports a node error, a node reconnecting and the cluster closing as connection events', () => {
    const { cluster, events } = fakeCluster([fakeNode('a')]);
    const client = clusterRedisClient(cluster);
    const seen: string[] = [];
    client.on('error', (error) => seen.push(`error ${(error as Error).message}`));
    client.on('reconnecting', () => seen.push('reconnecting'));
    client.on('end', () => seen.push('end'));
    events.emit('node-error', new Error('ECONNREFUSED'), { host: '127.0.0.1', port: 7000 });
    events.emit('error', new Error('discovery failed'));
    events.emit('node-reconnecting', { host: '127.0.0.1', port: 7000 });
    events.emit('disconnect');
    expect(seen).toEqual(['error ECONNREFUSED', 'error discovery failed', 'reconnecting', 'end']);
  });

  it('names the cluster by its seeds, sorted and once each, never by one node', () => {
    expect(redisClusterLocation(fakeCluster([]).cluster)).toBe('redis-cluster://cache-a:7000,cache-b:7001');
  });
});
