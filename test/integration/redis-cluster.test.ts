/**
 * The service on a Redis Cluster (3 masters, 3 replicas) (see test/helpers/topology-suite.ts for what is checked).
 * Figures of the failover go to docs/redis.md.
 */
import { startRedisCluster } from '../helpers/redis-topologies.js';
import { topologySuite } from '../helpers/topology-suite.js';

topologySuite('Redis Cluster', startRedisCluster);
