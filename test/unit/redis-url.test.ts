/**
 * cache.redis_url picks the deployment (one node, Sentinel, Cluster); a URL that would be read
 * in a way the operator did not mean is refused with a line that says what to write instead.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { createRedis, parseRedisUrl } from '../../src/cache/redis-connection.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { ROOT, testConfigYaml } from '../helpers/harness.js';

const parsed: Array<[string, ReturnType<typeof parseRedisUrl>]> = [
  ['redis://r:6379', { kind: 'single', hosts: [{ host: 'r', port: 6379 }], username: undefined, password: undefined, db: undefined }],
  ['rediss://u:p%40ss@r:6380/2', { kind: 'single', hosts: [{ host: 'r', port: 6380 }], username: 'u', password: 'p@ss', db: 2 }],
  [
    'redis+sentinel://:pw@s1,s2:26380/mymaster/1',
    { kind: 'sentinel', hosts: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }], username: undefined, password: 'pw', masterName: 'mymaster', db: 1 },
  ],
  [
    'redis+sentinel://s1:26379/mymaster?sentinel_username=watch&sentinel_password=s%26cret',
    {
      kind: 'sentinel',
      hosts: [{ host: 's1', port: 26379 }],
      username: undefined,
      password: undefined,
      sentinelUsername: 'watch',
      sentinelPassword: 's&cret',
      masterName: 'mymaster',
      db: undefined,
    },
  ],
  ['redis+cluster://:pw@n1:7000,n2:7001', { kind: 'cluster', hosts: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }], username: undefined, password: 'pw' }],
];

const refused: Array<[string, string]> = [
  ['http://r:6379', 'not a Redis URL: expected redis://, rediss://, redis+sentinel:// or redis+cluster://'],
  ['redis://a:6379,b:6379', 'redis:// takes one host; use redis+sentinel:// or redis+cluster:// for several'],
  ['redis://r:6379/cache', 'redis:// path is the database number, got "cache"'],
  ['redis://r:6379/0/1', 'redis:// takes one path segment, the database number, e.g. redis://host:6379/0'],
  ['redis://r:6379?sentinel_password=x', 'redis:// takes no query parameters (only redis+sentinel:// takes sentinel_username, sentinel_password)'],
  ['redis+cluster://n1:7000/3', 'redis+cluster:// takes no path: a Redis Cluster has database 0 only (use cache.key_prefix to separate deployments)'],
  ['redis+sentinel://s1:26379', 'redis+sentinel:// needs the master name as its path, e.g. redis+sentinel://s1:26379/mymaster'],
  ['redis+sentinel://s1/m?password=x', 'unknown parameter "password" in redis+sentinel:// URL (known: sentinel_username, sentinel_password)'],
  ['redis+cluster://n1:70000', 'bad host:port "n1:70000" in Redis URL'],
];

describe('cache.redis_url', () => {
  for (const [url, expected] of parsed) it(`reads ${url}`, () => assert.deepEqual(parseRedisUrl(url), expected));

  for (const [url, message] of refused) {
    it(`refuses ${url}`, () => {
      assert.throws(
        () => parseConfig(testConfigYaml(`cache: { redis_url: "${url}" }`), 'config.yaml'),
        (err: unknown) => err instanceof ConfigError && assert.deepEqual(err.problems, [`config.yaml: cache.redis_url: ${message}`]) === undefined,
      );
    });
  }

  it('the examples in docs/redis.md load, one per deployment', () => {
    const blocks = [...readFileSync(join(ROOT, 'docs/redis.md'), 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    const env = { REDIS_PASSWORD: 'pw-1', SENTINEL_PASSWORD: 's-pw' };
    const kinds = blocks.map((block) => parseRedisUrl(parseConfig(testConfigYaml(block), 'config.yaml', env).cache.redis_url).kind);
    assert.deepEqual(kinds, ['single', 'sentinel', 'cluster']);
  });

  it("hands the sentinels' credentials to ioredis apart from the master's", () => {
    const client = createRedis('redis+sentinel://:master-pw@127.0.0.1:1/m?sentinel_password=sentinel-pw', { commandTimeoutMs: 50 }) as Redis;
    client.on('error', () => undefined);
    try {
      assert.equal(client.options.password, 'master-pw');
      assert.equal(client.options.sentinelPassword, 'sentinel-pw');
    } finally {
      client.disconnect();
    }
  });
});
