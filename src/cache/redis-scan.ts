/**
 * SCAN over a whole deployment. On one node (single or Sentinel's master) that is one SCAN; a
 * cluster spreads keys over its masters, and SCAN sent through a cluster client reaches one of
 * them only. So each master is scanned, taken from a slot table asked for just now: after a
 * failover a client that has not talked to the lost master since still lists it, and not the
 * replica that took its place. When some slot has no master, the scan fails rather than
 * return a part of the keys as if it were all of them.
 */
import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './redis-connection.js';

const SLOTS = 16384;

/** The connection to every master that owns slots right now. */
async function mastersNow(cluster: Cluster): Promise<Redis[]> {
  await new Promise<void>((resolve, reject) => cluster.refreshSlotsCache((err) => (err ? reject(err) : resolve())));
  const owners = new Set<string>();
  for (let slot = 0; slot < SLOTS; slot++) {
    const owner = cluster.slots[slot]?.[0];
    if (!owner) throw new Error(`cluster slot ${slot} has no master: scan incomplete`);
    owners.add(owner);
  }
  const byKey = new Map(cluster.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]));
  return [...owners].map((key) => {
    const node = byKey.get(key);
    if (!node) throw new Error(`no connection to cluster master ${key}: scan incomplete`);
    return node;
  });
}

/** Calls `onKeys` with every batch of keys matching `pattern`, with the node that holds them. */
export async function scanAll(client: RedisClient, pattern: string, onKeys: (node: Redis, keys: string[]) => Promise<void>): Promise<void> {
  const nodes = client instanceof Cluster ? await mastersNow(client) : [client];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await onKeys(node, keys);
    } while (cursor !== '0');
  }
}
