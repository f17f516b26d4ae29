/**
 * Throwaway Redis deployments the way operators scale them, on loopback ports in temp dirs:
 * a Cluster (3 masters, 3 replicas, made by `redis-cli --cluster create`) and a Sentinel set
 * (1 master, 1 replica, 3 sentinels run as `redis-server sentinel.conf --sentinel`, since
 * `redis-sentinel` is not always on PATH). Timeouts are short so a failover takes seconds.
 * Every process is killed by stop(), and by the test process's exit if stop() never ran.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

const INSTALL_HINT = 'apt-get install redis-server (redis-server and redis-cli 7+ on PATH)';

/**
 * `describe` options for a topology suite: skipped visibly, with the install hint, without
 * redis-server/redis-cli; a failure under CI=true, where their absence is a broken set-up.
 */
export function topologySuiteOptions(): { skip?: string } {
  const present = ['redis-server', 'redis-cli'].every((tool) => spawnSync(tool, ['--version']).status === 0);
  if (present) return {};
  if (process.env.CI === 'true') throw new Error(`CI=true and no redis-server/redis-cli: ${INSTALL_HINT}`);
  return { skip: `no redis-server/redis-cli; install them with: ${INSTALL_HINT}` };
}

/** Processes left running when the test process exits for any reason are killed with it. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

interface ServerProcess {
  readonly port: number;
  kill(): Promise<void>;
}

function launch(args: string[], port: number): ServerProcess {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return {
    port,
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

/** A client for the set-up itself: no retries, so a node that is not up yet fails at once. */
function probe(port: number): Redis {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  return client;
}

/** Polls `check` against the node on `port` until it returns true (a refused connection is a no). */
async function until(port: number, what: string, check: (client: Redis) => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const client = probe(port);
    try {
      await client.connect();
      if (await check(client)) return;
    } catch {
      // not there yet
    } finally {
      client.disconnect();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis on port ${port}: ${what} not within ${ms} ms`);
}

const serverArgs = (dir: string, port: number): string[] => ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];

export interface RedisTopology {
  /** cache.redis_url for this deployment. */
  readonly url: string;
  /** Ports of the masters right now (the cluster's from CLUSTER NODES, the sentinels' choice). */
  masterPorts(): Promise<number[]>;
  /** kill -9 of the master on `port`; the topology is expected to fail over by itself. */
  killMaster(port: number): Promise<void>;
  stop(): Promise<void>;
}

/** A master's port per slot range, from CLUSTER NODES of a live node. */
async function clusterMasters(ports: number[]): Promise<number[]> {
  for (const port of ports) {
    const client = probe(port);
    try {
      await client.connect();
      const nodes = (await client.call('CLUSTER', 'NODES')) as string;
      return nodes
        .split('\n')
        .map((line) => line.split(' '))
        .filter((f) => f[2]?.includes('master') && !f[2].includes('fail') && f.length > 8)
        .map((f) => Number(/:(\d+)@/.exec(f[1] ?? '')?.[1]));
    } catch {
      // a dead node: ask the next one
    } finally {
      client.disconnect();
    }
  }
  throw new Error('no cluster node answers');
}

export async function startRedisCluster(): Promise<RedisTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-redis-cluster-'));
  const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  const busPorts = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  const servers = ports.map((port, i) => {
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir);
    return launch(
      [
        ...serverArgs(nodeDir, port),
        '--cluster-enabled', 'yes',
        '--cluster-port', String(busPorts[i]),
        '--cluster-config-file', join(nodeDir, 'nodes.conf'),
        // A master silent for 1 s is failed over; any replica may take over however stale.
        '--cluster-node-timeout', '1000',
        '--cluster-replica-validity-factor', '0',
      ],
      port,
    );
  });
  const stop = async () => {
    await Promise.all(servers.map((s) => s.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(ports.map((port) => until(port, 'started', async (c) => (await c.ping()) === 'PONG')));
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    const clusterOk = async (c: Redis) => /cluster_state:ok/.test((await c.call('CLUSTER', 'INFO')) as string);
    await Promise.all(ports.map((port) => until(port, 'cluster_state:ok', clusterOk)));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    masterPorts: () => clusterMasters(ports),
    async killMaster(port) {
      await servers.find((s) => s.port === port)?.kill();
    },
    stop,
  };
}

const MASTER_NAME = 'cppmaster';

export async function startRedisSentinel(): Promise<RedisTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-redis-sentinel-'));
  const [masterPort, replicaPort, ...sentinelPorts] = await Promise.all(Array.from({ length: 5 }, () => freePort()));
  const master = launch(serverArgs(dir, masterPort as number), masterPort as number);
  const replica = launch([...serverArgs(dir, replicaPort as number), '--replicaof', '127.0.0.1', String(masterPort), '--dbfilename', 'replica.rdb'], replicaPort as number);
  const servers = [master, replica];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(replicaPort as number, 'replica in sync', async (c) => /master_link_status:up/.test(await c.info('replication')));
    for (const port of sentinelPorts) {
      // Sentinel rewrites its own config file, so each gets a writable one.
      const file = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
          // Down after 1 s of silence, a new failover may start 5 s after a failed one.
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 5000`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      servers.push(launch([file, '--sentinel'], port));
    }
    // A failover needs every sentinel to know the replica and the other sentinels (learned from hello messages).
    const knowsAll = async (c: Redis) => {
      const replicas = (await c.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[];
      const others = (await c.call('SENTINEL', 'SENTINELS', MASTER_NAME)) as unknown[];
      return replicas.length === 1 && others.length === 2;
    };
    await Promise.all(sentinelPorts.map((port) => until(port, 'sentinel sees its peers and the replica', knowsAll)));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: `redis+sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${MASTER_NAME}`,
    async masterPorts() {
      const client = probe(sentinelPorts[0] as number);
      try {
        await client.connect();
        const [, port] = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string];
        return [Number(port)];
      } finally {
        client.disconnect();
      }
    },
    async killMaster(port) {
      await servers.find((s) => s.port === port)?.kill();
    },
    stop,
  };
}
