/** The handle registry in Redis, against a real redis-server: the registry contract suite. */
import { after, describe } from 'node:test';
import type { Redis } from 'ioredis';
import { registrySuite } from '../../src/testing/index.js';
import { RedisHandleStore } from '../../src/server/state/redis-handle-store.js';
import { closeRedisClients, redisClient } from '../../src/server/state/redis-client.js';
import { stateUrl, testRedis } from '../helpers/test-redis.js';

const redis = testRedis();

describe('RedisHandleStore', { skip: redis.skip }, () => {
  after(closeRedisClients);

  registrySuite('RedisHandleStore', async () => {
    const url = stateUrl(redis.url!);
    const open = async () => {
      const store = new RedisHandleStore(redisClient(url));
      await store.open();
      return store;
    };
    // Another server: its own connection to the same Redis and prefix.
    const extra: Redis[] = [];
    const another = async () => {
      const client = redisClient(url).duplicate();
      extra.push(client);
      const store = new RedisHandleStore(client);
      await store.open();
      return store;
    };
    const client = redisClient(url);
    return {
      registry: await open(),
      reopen: open,
      another,
      kept: async () => {
        const prefix = client.options.keyPrefix ?? '';
        // KEYS returns full names; the client adds its prefix to the names it is given.
        const keys = (await client.keys(`${prefix}*`)).map((key) => key.slice(prefix.length));
        const values = await Promise.all(keys.map((key) => client.get(key).catch(() => '')));
        return `${keys.join('\n')}\n${values.join('\n')}`;
      },
      cleanup: async () => {
        const prefix = client.options.keyPrefix ?? '';
        const keys = (await client.keys(`${prefix}*`)).map((key) => key.slice(prefix.length));
        if (keys.length > 0) await client.del(...keys);
        for (const other of extra) other.disconnect();
      },
    };
  });
});
