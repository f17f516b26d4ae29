/**
 * The service on a Redis Sentinel set (1 master, 1 replica, 3 sentinels) (see test/helpers/topology-suite.ts for what is checked).
 * Figures of the failover go to docs/redis.md.
 */
import { startRedisSentinel } from '../helpers/redis-topologies.js';
import { topologySuite } from '../helpers/topology-suite.js';

topologySuite('Redis Sentinel', startRedisSentinel);
