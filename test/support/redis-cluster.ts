import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ping } from './redis-server';
import { freePort, waitFor } from './service-process';

const run = promisify(execFile);

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** One redis-server of the cluster, started by this process (its pid is the child's). */
export interface ClusterNode {
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

/**
 * A Redis Cluster of a test's own: six `redis-server --cluster-enabled yes` on spare ports, made
 * into three masters with one replica each by `redis-cli --cluster create`. Every node writes
 * into one temporary directory of the cluster's; nothing is persisted (`--save ""`, no AOF), and
 * the shared Redis on 6379 is never touched. `stop()` kills each node by its own pid.
 */
export class RedisCluster {
  private constructor(
    readonly nodes: readonly ClusterNode[],
    readonly dir: string,
  ) {}

  static async start(size = 6): Promise<RedisCluster> {
    const dir = mkdtempSync(path.join(tmpdir(), 'redis-cluster-'));
    const nodes: ClusterNode[] = [];
    const cluster = new RedisCluster(nodes, dir);
    try {
      for (let i = 0; i < size; i += 1) nodes.push(startNode(await freeClusterPort(nodes.map((node) => node.port)), dir));
      for (const node of nodes) {
        await waitFor(`cluster node ${node.port} to answer PING`, async () => {
          if (node.child.exitCode !== null) throw new Error(`redis-server on ${node.port} exited`);
          return (await ping(node.port)) || undefined;
        });
      }
      await run('redis-cli', ['--cluster', 'create', ...cluster.seeds, '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });
      await cluster.waitUntilOk();
      await cluster.waitUntilReplicasInSync();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** `127.0.0.1:port` of every node, for REDIS_CLUSTER_NODES. */
  get seeds(): string[] {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`);
  }

  /** Runs `redis-cli -p port args...` against one node and answers its output, trimmed. */
  async cli(port: number, ...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 10_000 });
    return stdout.trim();
  }

  /** The hash slot of `key` (`CLUSTER KEYSLOT`). */
  async keyslot(key: string): Promise<number> {
    return Number(await this.cli(this.nodes[0].port, 'cluster', 'keyslot', key));
  }

  /** The port of the master that owns `slot` now, from `CLUSTER SLOTS` of a running node (the first, or the one on `via`). */
  async masterPortOf(slot: number, via?: number): Promise<number> {
    const running = this.nodes.find((node) => this.isRunning(node) && (via === undefined || node.port === via));
    if (!running) throw new Error('no cluster node is running');
    // `--json`-free parsing: each range prints as start, end, then the master's ip, port, id.
    const lines = (await this.cli(running.port, 'cluster', 'slots')).split('\n');
    for (let i = 0; i + 3 < lines.length; i += 1) {
      const start = Number(lines[i]);
      const end = Number(lines[i + 1]);
      if (/^\d+$/.test(lines[i]) && /^\d+$/.test(lines[i + 1]) && lines[i + 2] === '127.0.0.1' && slot >= start && slot <= end) return Number(lines[i + 3]);
    }
    throw new Error(`no master owns slot ${slot}`);
  }

  /** The port of a running replica of the master on `masterPort`, from CLUSTER NODES; undefined when it has none. */
  async replicaPortOf(masterPort: number): Promise<number | undefined> {
    const running = this.nodes.find((node) => this.isRunning(node) && node.port !== masterPort);
    if (!running) throw new Error('no cluster node is running');
    // Each line: id ip:port@bus flags master-id ...
    const lines = (await this.cli(running.port, 'cluster', 'nodes')).split('\n').map((line) => line.split(' '));
    const masterId = lines.find((fields) => fields[1]?.startsWith(`127.0.0.1:${masterPort}@`))?.[0];
    const replica = lines.find((fields) => fields[3] === masterId && fields[2].includes('slave') && !fields[2].includes('fail'));
    return replica ? Number(replica[1].split(':')[1].split('@')[0]) : undefined;
  }

  /**
   * Resolves with the new master's port once every running node says a master other than `dead`
   * owns `slot` and reports `cluster_state:ok`. Right after a kill, `cluster_state:ok` alone
   * proves nothing: the nodes have not yet noticed (cluster-node-timeout) that the master is gone.
   */
  async waitForPromotion(slot: number, dead: number, timeoutMs = 30_000): Promise<number> {
    const port = await waitFor(
      `a master other than ${dead} for slot ${slot} on every node`,
      async () => {
        const seen = new Set<number>();
        for (const node of this.nodes) if (this.isRunning(node)) seen.add(await this.masterPortOf(slot, node.port).catch(() => dead));
        const [only] = seen;
        return seen.size === 1 && only !== dead ? only : undefined;
      },
      timeoutMs,
      50,
    );
    await this.waitUntilOk(timeoutMs);
    return port;
  }

  /**
   * Every key matching `pattern`, from `KEYS` on every running node (a replica lists its master's
   * keys again; each key is answered once). For a test's own cluster only: the service never enumerates keys.
   */
  async keys(pattern: string): Promise<string[]> {
    const found = new Set<string>();
    for (const node of this.nodes) {
      if (node.child.exitCode !== null || node.child.signalCode !== null) continue;
      for (const key of (await this.cli(node.port, '--raw', 'keys', pattern)).split('\n')) if (key !== '') found.add(key);
    }
    return [...found].sort();
  }

  /** Answers what `GET key` gives on the master of its slot (null for no key). */
  async get(key: string): Promise<string | null> {
    const port = await this.masterPortOf(await this.keyslot(key));
    if ((await this.cli(port, 'exists', key)) !== '1') return null;
    return this.cli(port, '--raw', 'get', key);
  }

  private isRunning(node: ClusterNode): boolean {
    return node.child.exitCode === null && node.child.signalCode === null;
  }

  /** Kills one node with SIGKILL and waits until it is gone. */
  async kill(port: number): Promise<void> {
    const node = this.nodes.find((candidate) => candidate.port === port);
    if (!node) throw new Error(`no cluster node on ${port}`);
    node.child.kill('SIGKILL');
    await node.exited;
  }

  /** Resolves once every running node reports `cluster_state:ok`. */
  async waitUntilOk(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      'cluster_state:ok on every node',
      async () => {
        for (const node of this.nodes) {
          if (node.child.exitCode !== null || node.child.signalCode !== null) continue;
          if (!(await this.cli(node.port, 'cluster', 'info')).includes('cluster_state:ok')) return false;
        }
        return true;
      },
      timeoutMs,
      200,
    );
  }

  /**
   * Resolves once every running replica has finished its first sync with its master
   * (`master_link_status:up`). Until then a replica cannot be promoted: its data counts as too old
   * (cluster-replica-validity-factor), so a master killed early would leave its slots without one.
   */
  async waitUntilReplicasInSync(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      'every replica in sync with its master',
      async () => {
        for (const node of this.nodes) {
          if (node.child.exitCode !== null || node.child.signalCode !== null) continue;
          const replication = await this.cli(node.port, 'info', 'replication');
          if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false;
        }
        return true;
      },
      timeoutMs,
      100,
    );
  }

  /** Kills every node still running and removes the directory. Idempotent. */
  async stop(): Promise<void> {
    for (const node of this.nodes) {
      if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
    }
    await Promise.all(this.nodes.map((node) => node.exited));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function startNode(port: number, dir: string): ClusterNode {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    `nodes-${port}.conf`,
    '--cluster-node-timeout',
    '1000',
    // A replica's first sync starts at once rather than after the default 5 s wait for others to join it.
    '--repl-diskless-sync-delay',
    '0',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  live.add(child);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });
  return { port, child, exited };
}

/**
 * A spare port whose cluster bus port (port + 10,000, where the nodes talk to each other) is
 * spare too, and is neither 6379 nor its bus port, nor one already chosen.
 */
async function freeClusterPort(taken: readonly number[]): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = await freePort();
    if (port > 55_535 || port === 6379 || taken.includes(port) || taken.includes(port + 10_000) || taken.includes(port - 10_000)) continue;
    if (await isFree(port + 10_000)) return port;
  }
  throw new Error('no spare port pair for a Redis Cluster node');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
